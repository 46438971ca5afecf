from django.db import migrations

# docs/concepts/journey.md, "Journey": the default stages, in order.
DEFAULT_STAGES = [
    ("Awareness", "The account knows us."),
    ("Research", "The account evaluates us."),
    ("Decision", "The account decides to buy."),
    ("Purchase (onboarding)", "Signed; being onboarded."),
    ("Adoption", "Getting value from the product."),
    ("Advocacy", "Recommends us."),
]


def create_defaults(apps, schema_editor):
    Stage = apps.get_model("journeys", "Stage")
    JourneySettings = apps.get_model("journeys", "JourneySettings")
    stages = {
        name: Stage.objects.create(name=name, order=order, description=description)
        for order, (name, description) in enumerate(DEFAULT_STAGES, start=1)
    }
    JourneySettings.objects.create(id=1, adoption_stage=stages["Adoption"])


class Migration(migrations.Migration):
    dependencies = [("journeys", "0001_initial")]

    operations = [migrations.RunPython(create_defaults, migrations.RunPython.noop)]
