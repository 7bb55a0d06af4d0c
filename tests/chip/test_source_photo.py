"""The chip scan source reads the face photo into memory only when configured to (console face check)."""

from drivers import sources
from kiosk import config


def test_chip_source_photo_follows_configuration(tmp_path):
    cfg_file = tmp_path / "k.toml"
    cfg_file.write_text(f'[reader]\nenabled = true\ncsca_dir = "{tmp_path}"\nread_photo = false\n')
    off = sources.make_chip(config.load(str(cfg_file), str(tmp_path), env={}))
    cfg_file.write_text(f'[reader]\nenabled = true\ncsca_dir = "{tmp_path}"\n')
    on = sources.make_chip(config.load(str(cfg_file), str(tmp_path), env={}))
    assert (off.photo, on.photo) == (False, True)
