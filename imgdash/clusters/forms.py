import re

from django import forms

# Three base64url segments: header.payload.signature.
JWT_SHAPE = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$")
MAX_TOKEN_LENGTH = 16384


class ConnectForm(forms.Form):
    """Either a pasted ID token, or the cluster's username and password (used once)."""

    token = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "autocomplete": "off", "spellcheck": "false"}),
        help_text="The ID token printed by `cloudctl tokens` "
        "(or `bx pr tokens` on older clusters).",
    )
    username = forms.CharField(
        required=False, max_length=200, widget=forms.TextInput(attrs={"autocomplete": "off"})
    )
    password = forms.CharField(
        required=False, max_length=1000, widget=forms.PasswordInput(attrs={"autocomplete": "off"})
    )

    def clean_token(self):
        token = self.cleaned_data["token"].strip()
        # Accept what people paste: "ID token: eyJ...", "Bearer eyJ...", wrapped lines.
        token = re.sub(r"^(id[ _-]?token\s*:|bearer)\s*", "", token, flags=re.IGNORECASE)
        token = "".join(token.split())
        if not token:
            return ""
        if len(token) > MAX_TOKEN_LENGTH or not JWT_SHAPE.match(token):
            raise forms.ValidationError(
                "That is not an ID token. Run `cloudctl tokens` and paste the value after "
                '"ID token:" (it starts with eyJ).'
            )
        return token

    def clean(self):
        data = super().clean()
        token = data.get("token")
        username, password = data.get("username", "").strip(), data.get("password", "")
        if self.errors:
            return data
        if token and (username or password):
            raise forms.ValidationError("Paste a token or sign in with a password, not both.")
        if not token and not (username and password):
            if username or password:
                raise forms.ValidationError("Give both the cluster username and its password.")
            raise forms.ValidationError(
                "Paste an ID token, or give a cluster username and password."
            )
        data["username"] = username
        return data
