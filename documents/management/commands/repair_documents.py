"""Cut documents stored before the content schema down to what the editor renders."""

from typing import Any

from django.core.management.base import BaseCommand

from documents import services
from documents.models import Document


class Command(BaseCommand):
    help = "Drop embeds and formats the editor cannot render from every document (one op each)."

    def handle(self, *args: Any, **options: Any) -> None:
        repaired = 0
        for document_id in Document.objects.exclude(type="").values_list("pk", flat=True).iterator():
            if services.repair_content(document_id=document_id) is not None:
                repaired += 1
                self.stdout.write(f"repaired {document_id}")
        self.stdout.write(f"{repaired} document(s) repaired.")
