"""Display helpers for the action log."""

import json

from django import template

register = template.Library()


@register.filter
def pretty_json(value):
    """Details as indented JSON (the template escapes it)."""
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)
