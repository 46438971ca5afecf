from celery.schedules import crontab

from csm_platform.celery import app


def test_every_beat_entry_is_a_registered_task_on_a_crontab_with_an_expiry():
    app.loader.import_default_modules()
    assert app.conf.beat_schedule
    for name, entry in app.conf.beat_schedule.items():
        assert entry["task"] in app.tasks, name
        assert isinstance(entry["schedule"], crontab), name
        assert entry["options"]["expires"] > 0, name
