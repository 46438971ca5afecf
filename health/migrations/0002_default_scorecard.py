from django.db import migrations

# docs/concepts/health-score.md's default measures: (measure, bad, good, weight).
DEFAULT_MEASURES = [
    ("usage_trend", 0.5, 1.1, 20),
    ("license_utilization", 0.2, 0.8, 20),
    ("feature_breadth", 0.1, 0.6, 15),
    ("stickiness", 0.05, 0.3, 10),
    ("engagement", 60, 14, 10),
    ("executive_sponsor", 0, 1, 10),
    ("nps", -20, 50, 15),
]


def create_default_scorecard(apps, schema_editor):
    Scorecard = apps.get_model("health", "Scorecard")
    ScorecardMeasure = apps.get_model("health", "ScorecardMeasure")
    ScorecardVersion = apps.get_model("health", "ScorecardVersion")
    scorecard = Scorecard.objects.create(name="Default", segment="", red_below=40, green_from=70, version=1)
    ScorecardMeasure.objects.bulk_create(
        ScorecardMeasure(scorecard=scorecard, measure=key, bad=bad, good=good, weight=weight)
        for key, bad, good, weight in DEFAULT_MEASURES
    )
    ScorecardVersion.objects.create(
        scorecard=scorecard,
        version=1,
        definition={
            "red_below": 40.0,
            "green_from": 70.0,
            "measures": [
                {"key": key, "bad": float(bad), "good": float(good), "weight": float(weight)}
                for key, bad, good, weight in DEFAULT_MEASURES
            ],
        },
    )


class Migration(migrations.Migration):
    dependencies = [("health", "0001_initial")]

    operations = [migrations.RunPython(create_default_scorecard, migrations.RunPython.noop)]
