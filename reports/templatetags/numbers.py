"""How figures read on the pages: p-values in one notation whatever their size."""

from django import template

register = template.Library()

SMALL_P = 0.001


@register.filter
def p_value(value: float | None) -> str:
    """Three decimals, or scientific notation below 0.001 (where 0.000 would hide the size)."""
    if value is None:
        return "—"
    return f"{value:.1e}" if value < SMALL_P else f"{value:.3f}"
