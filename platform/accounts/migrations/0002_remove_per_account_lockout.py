"""Sign-in lock-outs moved to django-axes, by e-mail address and source together: the per-account
lock (User.failed_login_count, User.locked_until) let anyone lock any member of staff out.

The fields leave the model now but their columns stay until a later release, as
docs/deployment.md asks: `migrate` runs while the previous version still serves, and that version
reads and writes both columns. Giving failed_login_count a database default lets this version's
INSERTs (which no longer name it) pass; locked_until is nullable already. Reversing puts the fields
back in the model and removes the default; no data is lost either way.
"""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    sql="ALTER TABLE accounts_user ALTER COLUMN failed_login_count SET DEFAULT 0",
                    reverse_sql="ALTER TABLE accounts_user ALTER COLUMN failed_login_count DROP DEFAULT",
                ),
            ],
            state_operations=[
                migrations.RemoveField(model_name="user", name="failed_login_count"),
                migrations.RemoveField(model_name="user", name="locked_until"),
            ],
        ),
    ]
