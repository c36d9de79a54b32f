"""Management commands that replace Django's own where those would write beside the services.

Listed before `django.contrib.auth` in INSTALLED_APPS, so its commands win over auth's."""
