from django.contrib import admin

from . import models

admin.site.register(models.Election)
admin.site.register(models.Category)
from .api import admin as api_admin  # noqa: E402, F401 (partner tokens and export jobs)
