"""The repository list's table rows, built in Python.

A row through the template engine cost about 80 µs (an include for the scope badge, a dozen
variable lookups and filters), most of a warm list page's server time at 50 rows; built here
with one escape per value it costs a few. The markup is the one the template had; the scope
cell is the badge of repositories/scope.html#badge in the shape the list shows it (a test
compares the two).
"""

from html import escape  # what django.utils.html.escape does, without its lazy-string checks

from django import template
from django.contrib.humanize.templatetags.humanize import intcomma
from django.utils.safestring import mark_safe
from django.utils.timesince import timesince

from imgdash.core.templatetags.imgdash import size_figure, utc
from imgdash.imagemanager import visible_text

register = template.Library()

_INVALID_NAME = (
    ' <span class="badge warn" title="Not a valid repository name: imgdash does not open it">'
    "invalid name</span>"
)


def _shown(text):
    """As `{{ text|visible }}` shows it: hidden characters as escapes, then HTML-escaped."""
    return escape(visible_text(text))


@register.simple_tag(takes_context=True)
def repository_rows(context, rows):
    """Every <tr> of the list: `rows` holds (entry, matched, more, url) per row."""
    return mark_safe("\n".join(repository_row(context, *row) for row in rows))  # noqa: S308


def repository_row(context, entry, matched, more, url):
    """One <tr> of the list: `url` is the entry's detail page, `matched` and `more` its
    matching tags (search.matching_tags)."""
    can_change = context.get("can_change")
    url = escape(url)
    cells = []
    if can_change:
        check = ""
        if entry.linkable:
            check = (
                f'<input type="checkbox" name="repository" value="{escape(entry.name)}" '
                f'data-bulk aria-label="Select {_shown(entry.name)}">'
            )
        cells.append(f'<td class="check">{check}</td>')
    cells.append(f'<td class="repo-name">{_name_cell(entry, matched, more, url)}</td>')
    cells.append(f'<td class="col-scope">{_scope_cell(context, entry, url)}</td>')
    tags = "" if entry.tag_count == 1 else "s"
    cells.append(
        f'<td class="num col-tags">{escape(intcomma(entry.tag_count))}'
        f'<span class="card-label"> tag{tags}</span></td>'
    )
    cells.append(f'<td class="num size">{size_figure(entry.size, entry.size_state)}</td>')
    cells.append(f'<td class="num col-built">{_built_cell(context, entry)}</td>')
    if can_change:
        delete = ""
        if entry.linkable:
            delete_url = f"{url}-/delete/?next={escape(context['list_return_quoted'])}"
            delete = (
                f'<a class="btn small" href="{delete_url}" hx-get="{delete_url}" '
                f'hx-target="#dialog-slot" hx-swap="innerHTML" '
                f'aria-label="Delete {_shown(entry.name)}">Delete…</a>'
            )
        cells.append(f'<td class="right col-actions">{delete}</td>')
    return mark_safe("<tr>\n" + "\n".join(cells) + "\n</tr>")  # noqa: S308 - every value escaped


def _name_cell(entry, matched, more, url):
    name = f"<strong>{_shown(entry.short_name)}</strong>"
    if entry.namespace:
        name = f'<span class="ns">{_shown(entry.namespace)}/</span>{name}'
    if entry.linkable:
        cell = f'<a href="{url}">{name}</a>'
    else:
        cell = f'<span class="unlinked">{name}</span>{_INVALID_NAME}'
    if matched:
        cell = f"{cell}\n{_tag_match(matched, more)}"
    return cell


def _tag_match(matched, more):
    tags = ", ".join(
        f'<span class="mono">{_shown(before)}<mark>{_shown(hit)}</mark>{_shown(after)}</span>'
        for before, hit, after in matched
    )
    if more:
        plural = ("", "es") if more == 1 else ("s", "")
        tags += (
            f' <span title="{more} more tag{plural[0]} match{plural[1]}">'
            f"+{escape(intcomma(more))}</span>"
        )
    count = len(matched) + more
    return f'<span class="tag-match">tag{"" if count == 1 else "s"}: {tags}</span>'


def _built_cell(context, entry):
    """The newest tag's build date ("3 days ago", the exact UTC time in its title)."""
    built = context.get("built")
    created = built.of(entry) if built is not None else None
    if created is None:
        return (
            '<span class="muted" title="No build date known yet: the registry has not been '
            'read for this repository">unknown</span>'
        )
    return (
        f'<span class="card-label">built </span><time datetime="{created.isoformat()}" '
        f'title="{escape(utc(created))}">{escape(timesince(created, depth=1))} ago</time>'
    )


def _scope_cell(context, entry, url):
    scope = escape(entry.scope)
    if not entry.linkable:
        return f'<span class="badge {scope}">{scope or "unknown"}</span>'
    help_text = escape(context["scope_help"].get(entry.scope, ""))
    badge = f'<span class="badge {scope}" title="{help_text}">{scope or "unknown"}</span>'
    change = ""
    if context.get("can_change") and scope:
        scope_url = f"{url}-/scope/"
        change = (
            f' <a class="btn small link" href="{scope_url}'
            f'?next={escape(context["list_return_quoted"])}" hx-get="{scope_url}" '
            f'hx-target="closest .scope-cell" hx-swap="outerHTML" '
            f'aria-label="Change the scope of {_shown(entry.name)}">change</a>'
        )
    return f'<span class="scope-cell">{badge}{change}</span>'
