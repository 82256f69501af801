"""``{% absolute_url 'name' arg … %}``: a named URL as an absolute link (accounts/links.py),
for e-mail templates, which are rendered without a request."""

from __future__ import annotations

from django import template

from accounts.links import absolute_reverse

register = template.Library()


@register.simple_tag(name="absolute_url")
def absolute_url_tag(viewname: str, *args, **kwargs) -> str:
    return absolute_reverse(viewname, *args, **kwargs)
