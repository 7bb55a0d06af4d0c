"""`kiosk run` gets the chip source from configuration (reader.enabled)."""

from __future__ import annotations


def test_reader_enabled_adds_the_chip_source(tmp_path):
    from drivers.chip.source import ChipSource
    from drivers.sources import build_sources
    from kiosk import config
    off = config.load(None, str(tmp_path))
    assert not any(isinstance(s, ChipSource) for s in build_sources(off))
    f = tmp_path / "kiosk.toml"
    f.write_text('[scanner]\nkind = "none"\n[reader]\nenabled = true\nname = "Virtual PCD"\n'
                 f'csca_dir = "{tmp_path}"\nextended_length = "no"\n')
    (chip,) = build_sources(config.load(str(f), str(tmp_path)))
    assert isinstance(chip, ChipSource) and hasattr(chip, "expect")
    assert (chip.reader_name, chip.extended, chip.trust) == ("Virtual PCD", "no", [])
