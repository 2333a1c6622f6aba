"""Dashboard forms for firmware: an image upload (file or external URL) and a push to a station."""
from django import forms

from ..models import FirmwareImage

LOCAL_TIME = forms.DateTimeInput(attrs={"type": "datetime-local", "step": "1"},
                                 format="%Y-%m-%dT%H:%M:%S")


class FirmwareImageForm(forms.Form):
    name = forms.CharField(max_length=100)
    version = forms.CharField(max_length=50)
    vendor = forms.CharField(max_length=50, required=False, help_text="Blank: any vendor")
    model = forms.CharField(max_length=50, required=False, help_text="Blank: any model")
    file = forms.FileField(required=False)
    external_url = forms.URLField(max_length=512, required=False, assume_scheme="https",
                                  help_text="Instead of a file: handed to stations as it is")
    signature = forms.CharField(max_length=800, required=False, help_text="Base64")
    signing_certificate = forms.CharField(max_length=5500, required=False, widget=forms.Textarea(
        attrs={"rows": 3}), help_text="PEM")

    def clean(self):
        data = super().clean()
        if not data.get("file") and not data.get("external_url"):
            raise forms.ValidationError("Give a file or an external URL.")
        if data.get("file") and data.get("external_url"):
            raise forms.ValidationError("Give either a file or an external URL, not both.")
        return data


class FirmwareUpdateForm(forms.Form):
    image = forms.ModelChoiceField(queryset=FirmwareImage.objects.all())
    retrieve_at = forms.DateTimeField(required=False, label="Retrieve at (UTC)", widget=LOCAL_TIME,
                                      help_text="Blank: now")
    install_at = forms.DateTimeField(required=False, label="Install at (UTC)", widget=LOCAL_TIME)
    retries = forms.IntegerField(min_value=0, required=False)
    retry_interval = forms.IntegerField(min_value=0, required=False, label="Retry interval (s)")
    force = forms.BooleanField(required=False, help_text="Send even if vendor/model differ")
