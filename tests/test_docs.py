"""The docs say what the code does: the run-profile table in docs/training.md is the profiles'."""

from alexnet_kfp.pipeline.profiles import PROFILES

from .real_data import REPO


def test_the_profile_table_is_the_profiles():
    lines = (REPO / "docs" / "training.md").read_text().splitlines()
    for profile in PROFILES:
        (row,) = [line for line in lines if line.startswith(f"| `{profile.name}` |")]
        values = ", ".join(f"`{key}={value}`" for key, value in profile.values.items())
        assert row == f"| `{profile.name}` | {profile.where} | {values} |"
