"""The render path's per-process shortcuts (issue 13): `{% fixed_url %}` gives `{% url %}`'s
paths while no client detail is remembered with them, and templates are parsed once."""

from django.template import Context, Template
from django.test import override_settings
from django.urls import reverse, set_urlconf

from tenants.templatetags import site_links


def _render(source: str) -> str:
    return Template("{% load site_links %}" + source).render(Context({}))


def test_fixed_url_gives_the_path_url_gives():
    set_urlconf("config.urls_client")
    try:
        for name, args in [("site:accessibility", ()), ("site:language", ("cy",))]:
            quoted = " ".join(f"'{a}'" for a in args)
            expected = reverse(name, args=args, urlconf="config.urls_client")
            assert _render(f"{{% fixed_url '{name}' {quoted} %}}") == expected
            assert _render(f"{{% fixed_url '{name}' {quoted} %}}") == expected  # remembered
            assert _render(f"{{% fixed_url '{name}' {quoted} as u %}}[{{{{ u }}}}]") == (
                f"[{expected}]")
    finally:
        set_urlconf(None)


def test_fixed_url_is_forgotten_when_the_urlconf_setting_changes():
    site_links._reversed[(None, "/", "en-gb", "site:x", ())] = "/stale/"
    with override_settings(ROOT_URLCONF="config.urls_client"):
        assert site_links._reversed == {}


def test_the_header_and_footer_show_a_changed_client_name_at_once():
    page = ("{% load site_links %}<a href=\"{% fixed_url 'site:start' %}\">{{ client_name }}</a>"
            "{% fixed_url 'site:contact' %}")
    set_urlconf("config.urls_client")
    try:
        first = Template(page).render(Context({"client_name": "Essex"}))
        second = Template(page).render(Context({"client_name": "Essex County Council"}))
    finally:
        set_urlconf(None)
    assert "Essex</a>" in first and "Essex County Council</a>" in second


def test_templates_are_parsed_once_per_process():
    # Django wraps the loaders in its cached loader whenever TEMPLATES names none; naming
    # loaders in settings without it would re-parse every template on every page.
    from django.template import engines

    loaders = engines["django"].engine.template_loaders
    assert [type(loader).__module__ for loader in loaders] == ["django.template.loaders.cached"]
