from django.apps import AppConfig


class CommandsConfig(AppConfig):
    name = "collab.commands"
    label = "collab_commands"
