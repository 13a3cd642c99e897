"""Storage: private, atomic, plain-JSON files that survive corruption."""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

import pytest

from asyncplay import storage
from asyncplay.limits import Limits
from asyncplay.storage import Autosave, Settings


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "home" / "asyncplay"
    monkeypatch.setenv("ASYNCPLAY_HOME", str(path))
    return path


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_data_dir_uses_asyncplay_home_and_is_private(home: Path) -> None:
    old = os.umask(0o000)
    try:
        assert storage.data_dir() == home
        snippets = storage.user_snippets_dir()
    finally:
        os.umask(old)
    assert home.is_dir() and mode(home) == 0o700
    assert snippets == home / "snippets" and mode(snippets) == 0o700


def test_data_dir_tightens_an_existing_open_directory(home: Path) -> None:
    home.mkdir(parents=True)
    os.chmod(home, 0o755)
    storage.data_dir()
    assert mode(home) == 0o700


def test_data_dir_follows_xdg_without_asyncplay_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ASYNCPLAY_HOME", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert storage.data_dir() == tmp_path / "xdg" / "asyncplay"
    assert mode(tmp_path / "xdg" / "asyncplay") == 0o700


def test_files_are_0600_whatever_the_umask(home: Path) -> None:
    old = os.umask(0o000)
    try:
        storage.save_autosave(Autosave(text="x = 1\n"))
        storage.save_settings(Settings())
        target = storage.user_snippets_dir() / "mine.py"
        storage.write_atomic(target, "pass\n")
    finally:
        os.umask(old)
    for path in (home / "autosave.json", home / "settings.json", target):
        assert mode(path) == 0o600, path


def test_write_atomic_replaces_and_leaves_no_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "f.py"
    storage.write_atomic(target, "one\n")
    storage.write_atomic(target, "two\r\nünïcode\n")
    assert target.read_bytes() == "two\r\nünïcode\n".encode()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.py"]


def test_write_atomic_keep_mode_for_the_users_own_files(tmp_path: Path) -> None:
    shared = tmp_path / "shared.py"
    shared.write_text("old\n")
    os.chmod(shared, 0o664)
    link = tmp_path / "link.py"
    link.symlink_to(shared)
    storage.write_atomic(link, "new\n", keep_mode=True)
    assert link.is_symlink() and shared.read_text() == "new\n" and mode(shared) == 0o664
    fresh = tmp_path / "fresh.py"
    storage.write_atomic(fresh, "x\n", keep_mode=True)  # nothing to keep: private
    assert mode(fresh) == 0o600
    storage.write_atomic(shared, "again\n")  # default: private, whatever it was
    assert mode(shared) == 0o600


def test_write_atomic_failure_keeps_the_old_file_and_no_partial(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "f.py"
    storage.write_atomic(target, "old\n")

    def broken_fsync(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(storage.os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="No space"):
        storage.write_atomic(target, "new, but the disk is full\n")
    assert target.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.py"]


def test_write_atomic_text_that_cannot_encode_leaves_nothing(tmp_path: Path) -> None:
    target = tmp_path / "f.py"
    with pytest.raises(UnicodeEncodeError):
        storage.write_atomic(target, "lone surrogate \udcff")
    assert list(tmp_path.iterdir()) == []


def test_stale_temp_files_of_killed_writers_are_swept(home: Path) -> None:
    home.mkdir(parents=True)
    old = home / ".autosave.json.abc123.tmp"
    fresh = home / ".autosave.json.def456.tmp"  # another instance writing right now
    mine = home / ".notes.tmp.keep"
    for path in (old, fresh, mine):
        path.write_text("partial")
    long_ago = os.stat(old).st_mtime - storage.STALE_TEMP_SECONDS - 60
    os.utime(old, (long_ago, long_ago))
    os.utime(mine, (long_ago, long_ago))
    assert storage.load_autosave() is None
    assert not old.exists() and fresh.exists() and mine.exists()


def test_autosave_round_trip(home: Path) -> None:
    assert storage.load_autosave() is None
    saved = Autosave(
        text="import asyncio\n\tprint('é')\n",
        path="/tmp/x.py",
        snippet="gather",
        cursor=(1, 4),
        dirty=True,
        saved_at=1234.5,
    )
    storage.save_autosave(saved)
    assert storage.load_autosave() == saved
    on_disk = json.loads((home / "autosave.json").read_text())
    assert on_disk["version"] == 1 and on_disk["cursor"] == [1, 4]


@pytest.mark.parametrize(
    "content",
    [b"{not json", b"\xff\xfe garbage", b"[1, 2]", b'{"text": 3}', b'"just a string"', b""],
)
def test_corrupt_autosave_is_kept_as_bad_and_ignored(home: Path, content: bytes) -> None:
    home.mkdir(parents=True)
    (home / "autosave.json").write_bytes(content)
    storage.take_notices()
    assert storage.load_autosave() is None
    (bad,) = home.glob("autosave.json.bad-*")
    assert bad.read_bytes() == content
    assert mode(bad) == 0o600
    assert not (home / "autosave.json").exists()
    (notice,) = storage.take_notices()
    assert str(bad) in notice
    # the next save works and loads again
    storage.save_autosave(Autosave(text="ok"))
    loaded = storage.load_autosave()
    assert loaded is not None and loaded.text == "ok"


def test_autosave_with_bad_optional_fields_keeps_the_text(home: Path) -> None:
    home.mkdir(parents=True)
    (home / "autosave.json").write_text(
        json.dumps(
            {
                "text": "keep me",
                "path": 7,
                "snippet": ["x"],
                "cursor": [-1, "a"],
                "dirty": "yes",
                "saved_at": "now",
                "future_field": {"a": 1},
            }
        )
    )
    loaded = storage.load_autosave()
    assert loaded == Autosave(text="keep me", cursor=(0, 0), dirty=False, saved_at=0.0)


def test_unreadable_autosave_is_none(home: Path) -> None:
    home.mkdir(parents=True)
    (home / "autosave.json").mkdir()  # reading a directory fails with an OSError
    assert storage.load_autosave() is None


def test_uncreatable_data_dir_means_no_autosave_and_default_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("ASYNCPLAY_HOME", str(blocker / "asyncplay"))
    assert storage.load_autosave() is None
    assert storage.load_settings() == Settings()
    with pytest.raises(OSError):
        storage.save_autosave(Autosave(text="x"))


def test_settings_defaults_match_the_run_commands_limits(home: Path) -> None:
    settings = storage.load_settings()
    assert settings == Settings()
    limits, defaults = settings.to_limits(), Limits()
    for name in ("timeout", "memory_mib", "cpu", "output_mib", "procs"):
        assert getattr(limits, name) == getattr(defaults, name)


def test_settings_round_trip_and_to_limits(home: Path) -> None:
    settings = Settings(
        timeout=5,
        memory_mib=256,
        cpu=2.5,
        output_mib=1,
        procs=8,
        python="/usr/bin/python3",
        theme="nord",
        sandbox="rlimit",
        clock="virtual",
        speed=0.25,
        slow_step_ms=50,
    )
    storage.save_settings(settings)
    assert storage.load_settings() == settings
    limits = storage.load_settings().to_limits()
    assert (limits.timeout, limits.memory_mib, limits.cpu, limits.output_mib, limits.procs) == (
        5,
        256,
        2.5,
        1,
        8,
    )


def test_settings_run_options_make_a_run_spec(home: Path) -> None:
    from asyncplay.runner.spec import RunSpec

    settings = Settings(python="/usr/bin/python3", clock="virtual", speed=0.5, slow_step_ms=250)
    spec = RunSpec(source="pass\n", path="buffer.py", **settings.run_options())
    assert (spec.python, spec.clock, spec.speed, spec.slow_step) == (
        "/usr/bin/python3",
        "virtual",
        0.5,
        0.25,
    )
    assert spec.limits.timeout == settings.timeout
    assert RunSpec(source="", path="b.py", **Settings().run_options()).python == sys.executable


def test_settings_invalid_and_unknown_keys_fall_back_per_key(home: Path) -> None:
    home.mkdir(parents=True)
    (home / "settings.json").write_text(
        json.dumps(
            {
                "timeout": -1,
                "memory_mib": 2.5,
                "cpu": "fast",
                "output_mib": 4,
                "procs": True,
                "python": "",
                "theme": "gruvbox",
                "sandbox": "docker",
                "clock": "virtual",
                "speed": float("inf"),  # json writes Infinity: not a usable speed
                "slow_step_ms": 0,
                "colour": "mauve",
            }
        )
    )
    settings = storage.load_settings()
    expected = Settings(output_mib=4.0, theme="gruvbox", clock="virtual")
    assert settings == expected
    assert isinstance(settings.output_mib, float)


@pytest.mark.parametrize("content", [b"{", b"[]", b"\x00\x01", b"null"])
def test_corrupt_settings_give_defaults_and_a_bad_copy(home: Path, content: bytes) -> None:
    home.mkdir(parents=True)
    (home / "settings.json").write_bytes(content)
    assert storage.load_settings() == Settings()
    (bad,) = home.glob("settings.json.bad-*")
    assert bad.read_bytes() == content
    assert any(str(bad) in n for n in storage.take_notices())


def test_save_settings_refuses_an_unusable_value(home: Path) -> None:
    with pytest.raises(ValueError, match="timeout"):
        storage.save_settings(Settings(timeout=0))
    assert not (home / "settings.json").exists()
    assert Settings(sandbox="docker").problems() == {
        "sandbox": "must be one of auto, bwrap, rlimit, none"
    }


def test_homes_are_isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASYNCPLAY_HOME", str(tmp_path / "a"))
    storage.save_autosave(Autosave(text="in a"))
    storage.save_settings(Settings(theme="nord"))
    monkeypatch.setenv("ASYNCPLAY_HOME", str(tmp_path / "b"))
    assert storage.load_autosave() is None
    assert storage.load_settings().theme == "textual-dark"
    monkeypatch.setenv("ASYNCPLAY_HOME", str(tmp_path / "a"))
    loaded = storage.load_autosave()
    assert loaded is not None and loaded.text == "in a"


# -- damaged or strange files (issue 13) --------------------------------------------------


def test_each_quarantined_file_gets_its_own_name(home: Path) -> None:
    home.mkdir(parents=True)
    for n in range(3):
        (home / "settings.json").write_bytes(b"{broken %d" % n)
        assert storage.load_settings() == Settings()
    bad = sorted(home.glob("settings.json.bad-*"))
    assert len(bad) == 3
    assert {p.read_bytes() for p in bad} == {b"{broken 0", b"{broken 1", b"{broken 2"}
    notices = storage.take_notices()
    assert len(notices) == 3 and all("moved aside to" in n for n in notices)


def test_a_planted_symlink_is_moved_aside_not_followed(home: Path, tmp_path: Path) -> None:
    home.mkdir(parents=True)
    victim = tmp_path / "victim.txt"
    victim.write_text('{"text": "not yours"}')
    os.chmod(victim, 0o644)
    (home / "autosave.json").symlink_to(victim)
    assert storage.load_autosave() is None
    assert mode(victim) == 0o644  # never chmodded through the link
    assert victim.read_text() == '{"text": "not yours"}'
    (bad,) = home.glob("autosave.json.bad-*")
    assert bad.is_symlink()
    assert any("symlink" in n for n in storage.take_notices())


def test_dev_zero_behind_a_link_reads_nothing(home: Path) -> None:
    home.mkdir(parents=True)
    (home / "settings.json").symlink_to("/dev/zero")
    assert storage.load_settings() == Settings()
    assert not (home / "settings.json").exists()


def test_a_fifo_does_not_hang_start_up(home: Path) -> None:
    home.mkdir(parents=True)
    os.mkfifo(home / "autosave.json")
    assert storage.load_autosave() is None  # O_NONBLOCK: returns at once
    assert any("not a regular file" in n for n in storage.take_notices())


def test_read_private_is_bounded(tmp_path: Path) -> None:
    big = tmp_path / "big"
    big.write_bytes(b"x" * 100)
    assert storage.read_private(big, 100) == b"x" * 100
    with pytest.raises(storage.StrangeFile):
        storage.read_private(big, 99)
    assert storage.read_private(tmp_path / "missing") is None


def test_every_folder_made_is_0700_under_umask_000(tmp_path: Path, monkeypatch) -> None:
    deep = tmp_path / "a" / "b" / "c"
    monkeypatch.setenv("ASYNCPLAY_HOME", str(deep))
    old = os.umask(0o000)
    try:
        storage.user_snippets_dir()
    finally:
        os.umask(old)
    for folder in (tmp_path / "a", tmp_path / "a" / "b", deep, deep / "snippets"):
        assert mode(folder) == 0o700, folder


def test_a_symlinked_subfolder_is_refused_not_chmodded(home: Path, tmp_path: Path) -> None:
    home.mkdir(parents=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    os.chmod(elsewhere, 0o755)
    (home / "snippets").symlink_to(elsewhere)
    with pytest.raises(OSError):
        storage.user_snippets_dir()
    assert mode(elsewhere) == 0o755
