"""A brief's customer is its call's account (``Brief.account`` reads ``call.account``): the
copy on the brief is removed, so the two can never name different customers."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('callprep', '0012_rules_in_python'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='brief',
            name='brief_account_idx',
        ),
        migrations.RemoveField(
            model_name='brief',
            name='account',
        ),
    ]
