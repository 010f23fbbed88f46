"""Documents: files attached to milestones, meetings, reports, conventions and a project's
documents space, kept in versions, their bytes in a :class:`BlobStore` (the database by
default, or a local directory), addressed by SHA-256 and stored once."""

from workflow.documents.content import (
    ACCEPTED,
    Checked,
    FileRefused,
    FileTooLarge,
    clean_filename,
    inspect_file,
)
from workflow.documents.directory_store import DirectoryBlobStore
from workflow.documents.library import ATTACHMENTS, Attached, Documents
from workflow.documents.sql_store import SqlBlobStore
from workflow.documents.store import CHUNK_SIZE, BlobCorrupt, BlobMissing, BlobStore

__all__ = [
    "ACCEPTED",
    "ATTACHMENTS",
    "CHUNK_SIZE",
    "Attached",
    "BlobCorrupt",
    "BlobMissing",
    "BlobStore",
    "Checked",
    "DirectoryBlobStore",
    "Documents",
    "FileRefused",
    "FileTooLarge",
    "SqlBlobStore",
    "clean_filename",
    "inspect_file",
]
