from datetime import UTC, date, datetime, time, timedelta

from django import forms
from django.db.models import Q

from imgdash.audit.actions import ACTIONS, OUTCOMES
from imgdash.audit.models import AuditEvent


def _choices(mapping, blank):
    return [("", blank), *mapping.items()]


class LogFilterForm(forms.Form):
    """The action log's filters, all optional; every valid combination is a shareable URL."""

    actor = forms.CharField(required=False, max_length=150)
    action = forms.ChoiceField(required=False, choices=_choices(ACTIONS, "Any action"))
    outcome = forms.ChoiceField(required=False, choices=_choices(OUTCOMES, "Any outcome"))
    cluster = forms.ChoiceField(required=False)
    q = forms.CharField(required=False, max_length=200, label="Target or message")
    # The rows one job produced (its own events and each request it sent name it).
    job = forms.IntegerField(required=False, min_value=1, max_value=2**62, widget=forms.HiddenInput)
    since = forms.DateField(
        required=False,
        input_formats=["%Y-%m-%d"],
        error_messages={"invalid": "Enter the date as YYYY-MM-DD."},
    )
    until = forms.DateField(
        required=False,
        input_formats=["%Y-%m-%d"],
        error_messages={"invalid": "Enter the date as YYYY-MM-DD."},
    )

    def __init__(self, data):
        super().__init__(data)
        # Reached through the log's own relation: the action log sits below the clusters app
        # and imports nothing of it.
        clusters = AuditEvent._meta.get_field("cluster").related_model.objects.order_by("name")
        self.fields["cluster"].choices = [("", "Any cluster")] + [
            (cluster.slug, cluster.name) for cluster in clusters
        ]

    def clean_actor(self):
        return self.cleaned_data["actor"].strip()

    def clean_q(self):
        return self.cleaned_data["q"].strip()

    def clean(self):
        cleaned = super().clean()
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and since > until:
            raise forms.ValidationError("The start date is after the end date.")
        return cleaned

    def filter(self, events):
        """Apply the (valid) filters to a queryset of events."""
        data = self.cleaned_data
        if data["actor"]:
            events = events.filter(actor_username__iexact=data["actor"])
        if data["action"]:
            events = events.filter(action=data["action"])
        if data["outcome"]:
            events = events.filter(outcome=data["outcome"])
        if data["cluster"]:
            events = events.filter(cluster__slug=data["cluster"])
        if data["q"]:
            events = events.filter(Q(target__icontains=data["q"]) | Q(message__icontains=data["q"]))
        if data["job"]:
            events = events.filter(details__job=data["job"])
        if data["since"]:
            events = events.filter(created_at__gte=datetime.combine(data["since"], time(), UTC))
        if data["until"] and data["until"] < date.max:
            end = datetime.combine(data["until"] + timedelta(days=1), time(), UTC)
            events = events.filter(created_at__lt=end)
        return events

    @property
    def active(self):
        return self.is_valid() and any(self.cleaned_data.values())
