from django.db import migrations, models


def from_wall_time(apps, schema_editor):
    """Runs from before: their wall time from start to finish (or to their last heartbeat), the
    best figure there is for them."""
    SyncRun = apps.get_model("gmail_sync", "SyncRun")
    for run in SyncRun.objects.exclude(started_at=None).only("started_at", "finished_at", "last_heartbeat_at").iterator():
        end = run.finished_at or run.last_heartbeat_at
        if end and end > run.started_at:
            SyncRun.objects.filter(pk=run.pk).update(running_seconds=(end - run.started_at).total_seconds())


class Migration(migrations.Migration):

    dependencies = [
        ("gmail_sync", "0005_run_held"),
    ]

    operations = [
        migrations.AddField(
            model_name="syncrun",
            name="running_seconds",
            field=models.FloatField(db_default=0.0, default=0.0),
        ),
        migrations.RunPython(from_wall_time, migrations.RunPython.noop),
    ]
