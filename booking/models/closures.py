"""Days the client itself is closed (a training day, the office's Christmas shutdown): no course
date is scheduled on them, as on the bank holidays of the client's nation."""

from django.db import models


class Closure(models.Model):
    first_day = models.DateField()
    last_day = models.DateField()
    reason = models.CharField(max_length=200)

    class Meta:
        ordering = ["first_day", "pk"]
        constraints = [models.CheckConstraint(condition=models.Q(last_day__gte=models.F("first_day")),
                                              name="closure_ends_after_it_starts")]

    def __str__(self):
        return f"closed {self.first_day}–{self.last_day}: {self.reason}"
