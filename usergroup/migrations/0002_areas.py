from django.db import migrations

AREAS = ["Booking site", "Contact centre", "Administration", "Reports", "Billing", "API", "Other"]


def add_areas(apps, schema_editor):
    Area = apps.get_model("usergroup", "Area")
    for position, name in enumerate(AREAS):
        Area.objects.get_or_create(name=name, defaults={"position": position})


class Migration(migrations.Migration):
    dependencies = [("usergroup", "0001_initial")]
    operations = [migrations.RunPython(add_areas, migrations.RunPython.noop)]
