"""Rows that take a new random `write_stamp` with every write, so a copy kept in memory can be
checked against the database in the same statement that writes it (compare-and-set) instead of
locking and re-reading it first.

A random 62-bit stamp rather than a counter: a write from an instance read long ago still makes
a value no one holds (a counter would go back to one a kept copy may have). Writes through the ORM
all come here: `save()` (with or without update_fields) and `QuerySet.update()`, which
`bulk_update()` uses too. A write that bypasses both (raw SQL, or the collector nulling a foreign
key when its target is deleted) keeps the stamp; the hot path's compare-and-set also checks the
columns such a write could change (transactions/ingest.py)."""
import secrets

from django.db import models


def new_stamp():
    return secrets.randbits(62)


class StampedQuerySet(models.QuerySet):
    def update(self, **kwargs):
        kwargs.setdefault("write_stamp", new_stamp())
        return super().update(**kwargs)


class StampedModel(models.Model):
    """Abstract: the concrete model declares `write_stamp = BigIntegerField(default=0)`."""

    objects = StampedQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, update_fields=None, **kwargs):
        self.write_stamp = new_stamp()
        if update_fields is not None:
            update_fields = {*update_fields, "write_stamp"}
        super().save(*args, update_fields=update_fields, **kwargs)
