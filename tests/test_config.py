"""Tests for txkoji.config: koji client config files and profiles."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from txkoji.config import (
    BOOLEAN_OPTIONS,
    DEFAULTS,
    INTEGER_OPTIONS,
    SECONDS_OPTIONS,
    ProfileConfig,
    config_files,
    from_options,
    hub_url,
    profile_names,
    profile_option,
    read_config,
    resolve,
)
from txkoji.exceptions import KojiConfigError

SERVER = "https://koji.example.com/kojihub"


def write(path: Path, text: str) -> Path:
    """Write ``text`` to ``path``, creating its directories."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def etc(tmp_path: Path) -> Path:
    """A system config directory (standing for /etc), initially empty."""
    path = tmp_path / "etc"
    path.mkdir()
    return path


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A home directory, initially empty."""
    path = tmp_path / "home"
    path.mkdir()
    return path


def read(profile: str, etc: Path, home: Path, **kwargs) -> ProfileConfig:
    """Read ``profile`` with the default search under ``etc`` and ``home``."""
    return read_config(profile, system_dir=etc, home=home, **kwargs)


def one_file(tmp_path: Path, body: str, profile: str = "koji") -> Path:
    """Write a config file with one ``[profile]`` section holding ``server``
    plus ``body``."""
    return write(tmp_path / "koji.conf", f"[{profile}]\nserver = {SERVER}\n{body}")


# search order and precedence


def test_config_files_lists_system_then_user_files_sorted(
    etc: Path, home: Path
) -> None:
    write(etc / "koji.conf.d" / "b.conf", "")
    write(etc / "koji.conf.d" / "a.conf", "")
    write(etc / "koji.conf.d" / "notes.txt", "")
    (etc / "koji.conf.d" / "dir.conf").mkdir()
    write(home / ".koji" / "config.d" / "z.conf", "")
    write(home / ".koji" / "config.d" / "y.conf", "")
    assert config_files(system_dir=etc, home=home) == [
        str(etc / "koji.conf.d" / "a.conf"),
        str(etc / "koji.conf.d" / "b.conf"),
        str(etc / "koji.conf"),
        str(home / ".koji" / "config.d" / "y.conf"),
        str(home / ".koji" / "config.d" / "z.conf"),
        str(home / ".koji" / "config"),
    ]


def test_config_files_lists_fixed_files_even_when_missing(
    etc: Path, home: Path
) -> None:
    assert config_files(system_dir=etc, home=home) == [
        str(etc / "koji.conf"),
        str(home / ".koji" / "config"),
    ]


def test_user_config_replaces_both_home_locations(etc: Path, home: Path) -> None:
    write(etc / "koji.conf.d" / "a.conf", "")
    write(home / ".koji" / "config.d" / "y.conf", "")
    assert config_files(user_config="~/mine.conf", system_dir=etc, home=home) == [
        str(etc / "koji.conf.d" / "a.conf"),
        str(etc / "koji.conf"),
        str(home / "mine.conf"),
    ]


def test_later_files_override_earlier_option_by_option(etc: Path, home: Path) -> None:
    write(
        etc / "koji.conf.d" / "a.conf",
        f"[koji]\nserver = {SERVER}\ntimeout = 1\nweburl = https://a/koji\n",
    )
    write(etc / "koji.conf.d" / "b.conf", "[koji]\ntimeout = 2\n")
    write(etc / "koji.conf", "[koji]\nweburl = https://etc/koji\n")
    write(home / ".koji" / "config.d" / "x.conf", "[koji]\ntopurl = https://top\n")
    write(home / ".koji" / "config", "[koji]\ntimeout = 5\n[other]\ntimeout = 9\n")
    cfg = read("koji", etc, home)
    assert cfg["server"] == SERVER
    assert cfg["timeout"] == 5
    assert cfg["weburl"] == "https://etc/koji"
    assert cfg["topurl"] == "https://top"
    assert cfg.files == (
        str(etc / "koji.conf.d" / "a.conf"),
        str(etc / "koji.conf"),
        str(home / ".koji" / "config.d" / "x.conf"),
        str(home / ".koji" / "config"),
    )


def test_user_config_file_is_read_and_home_files_are_not(etc: Path, home: Path) -> None:
    write(etc / "koji.conf", f"[koji]\nserver = {SERVER}\n")
    write(home / ".koji" / "config", "[koji]\ntimeout = 5\n")
    mine = write(home / "mine.conf", "[koji]\npoll_interval = 3\n")
    cfg = read("koji", etc, home, user_config=str(mine))
    assert cfg["poll_interval"] == 3
    assert cfg["timeout"] == DEFAULTS["timeout"]


def test_explicit_files_are_the_only_ones_read(tmp_path: Path, etc: Path) -> None:
    write(etc / "koji.conf", "[koji]\nserver = https://from-etc/kojihub\n")
    first = write(tmp_path / "1.conf", f"[koji]\nserver = {SERVER}\ntimeout = 1\n")
    second = write(tmp_path / "2.conf", "[koji]\ntimeout = 2\n")
    cfg = read_config("koji", [first, str(tmp_path / "absent.conf"), second])
    assert cfg["server"] == SERVER
    assert cfg["timeout"] == 2
    assert cfg.files == (str(first), str(second))


def test_default_section_applies_but_a_profile_option_wins(tmp_path: Path) -> None:
    first = write(tmp_path / "1.conf", "[koji]\ntimeout = 1\n")
    second = write(tmp_path / "2.conf", f"[DEFAULT]\nserver = {SERVER}\ntimeout = 2\n")
    cfg = read_config("koji", [first, second])
    assert cfg["server"] == SERVER
    assert cfg["timeout"] == 1
    assert cfg.files == (str(first), str(second))


# types and defaults


@pytest.mark.parametrize(
    ("option", "default"),
    [
        ("weburl", "http://localhost/koji"),
        ("topurl", None),
        ("pkgurl", None),
        ("topdir", "/mnt/koji"),
        ("max_retries", 30),
        ("retry_interval", 20),
        ("anon_retry", False),
        ("offline_retry", False),
        ("offline_retry_interval", 20),
        ("timeout", 43200),
        ("auth_timeout", 60),
        ("use_fast_upload", True),
        ("upload_blocksize", 1048576),
        ("poll_interval", 6),
        ("principal", None),
        ("keytab", None),
        ("cert", None),
        ("serverca", None),
        ("no_ssl_verify", False),
        ("authtype", None),
        ("debug", False),
        ("debug_xmlrpc", False),
        ("force_auth", False),
        ("plugin_paths", None),
        ("pyver", None),
        ("krb_rdns", True),
        ("krb_canon_host", False),
        ("krb_server_realm", None),
        ("max_concurrency", 16),
        ("max_response_size", 1073741824),
        ("max_connections_per_host", 16),
        ("max_header_size", 65536),
    ],
)
def test_option_defaults(tmp_path: Path, home: Path, option: str, default) -> None:
    cfg = read_config("koji", [one_file(tmp_path, "")], home=home)
    assert cfg[option] == default
    assert type(cfg[option]) is type(default)


def test_defaults_table_matches_a_file_less_profile(tmp_path: Path, home: Path) -> None:
    cfg = read_config("koji", [one_file(tmp_path, "")], home=home)
    assert dict(cfg) == {**DEFAULTS, "server": SERVER}


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("yes", True),
        ("YES", True),
        ("true", True),
        ("True", True),
        ("on", True),
        ("1", True),
        ("no", False),
        ("false", False),
        ("Off", False),
        ("0", False),
    ],
)
def test_boolean_spellings(tmp_path: Path, text: str, value: bool) -> None:
    cfg = read_config("koji", [one_file(tmp_path, f"debug = {text}\n")])
    assert cfg["debug"] is value


@pytest.mark.parametrize("option", sorted(BOOLEAN_OPTIONS))
def test_every_boolean_option_is_converted(tmp_path: Path, option: str) -> None:
    flipped = not DEFAULTS[option]
    text = "yes" if flipped else "no"
    cfg = read_config("koji", [one_file(tmp_path, f"{option} = {text}\n")])
    assert cfg[option] is flipped


@pytest.mark.parametrize("option", sorted(INTEGER_OPTIONS))
def test_every_integer_option_is_converted(tmp_path: Path, option: str) -> None:
    cfg = read_config("koji", [one_file(tmp_path, f"{option} = 77\n")])
    assert cfg[option] == 77
    assert type(cfg[option]) is int


@pytest.mark.parametrize("option", sorted(SECONDS_OPTIONS))
@pytest.mark.parametrize(("text", "value"), [("77", 77), ("2.5", 2.5), ("0", 0)])
def test_every_seconds_option_takes_whole_or_fractional_seconds(
    tmp_path: Path, option: str, text: str, value: float
) -> None:
    cfg = read_config("koji", [one_file(tmp_path, f"{option} = {text}\n")])
    assert cfg[option] == value
    assert type(cfg[option]) is type(value)
    assert from_options(server=SERVER, **{option: value})[option] == value


@pytest.mark.parametrize(
    ("option", "value"),
    [(name, value) for name in sorted(SECONDS_OPTIONS) for value in (-1, "-0.5")]
    + [("max_retries", -1), ("max_retries", "-3")],
)
def test_negative_durations_and_retries_are_refused(option: str, value) -> None:
    with pytest.raises(KojiConfigError) as info:
        from_options(server=SERVER, **{option: value})
    assert repr(option) in str(info.value)
    assert "at least 0" in str(info.value)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), "nan", "inf", True])
def test_timeout_must_be_a_finite_number(value) -> None:
    with pytest.raises(KojiConfigError, match="'timeout'"):
        from_options(server=SERVER, timeout=value)


def test_zero_retries_are_allowed() -> None:
    assert from_options(server=SERVER, max_retries=0)["max_retries"] == 0


def test_string_options_and_unknown_options_stay_strings(tmp_path: Path) -> None:
    path = one_file(tmp_path, "authtype = ssl\nPrincipal = me@EX\nfancy = 12\n")
    cfg = read_config("koji", [path])
    assert cfg["authtype"] == "ssl"
    assert cfg["principal"] == "me@EX"
    assert cfg["fancy"] == "12"


def test_percent_in_values_is_preserved(tmp_path: Path) -> None:
    path = one_file(tmp_path, "weburl = https://h/koji?a=%20b%(x)s\ntopurl = 100%\n")
    cfg = read_config("koji", [path])
    assert cfg["weburl"] == "https://h/koji?a=%20b%(x)s"
    assert cfg["topurl"] == "100%"


@pytest.mark.parametrize(
    ("line", "option", "value"),
    [
        ("timeout = soon", "timeout", "soon"),
        ("max_retries = 3.5", "max_retries", "3.5"),
        ("debug = maybe", "debug", "maybe"),
        ("no_ssl_verify = 2", "no_ssl_verify", "2"),
        ("max_concurrency = 0", "max_concurrency", "0"),
    ],
)
def test_bad_value_error_names_option_value_profile_and_file(
    tmp_path: Path, line: str, option: str, value: str
) -> None:
    path = one_file(tmp_path, f"{line}\n", profile="fedora")
    with pytest.raises(KojiConfigError) as info:
        read_config("fedora", [path])
    message = str(info.value)
    for part in (repr(option), repr(value), "'fedora'", str(path)):
        assert part in message


def test_bad_value_error_names_the_file_that_set_it(tmp_path: Path) -> None:
    good = one_file(tmp_path, "timeout = 5\n")
    bad = write(tmp_path / "later.conf", "[koji]\ntimeout = never\n")
    with pytest.raises(KojiConfigError, match="later.conf"):
        read_config("koji", [good, bad])


# missing profile, missing server, unreadable files


def test_missing_profile_lists_every_file_searched(etc: Path, home: Path) -> None:
    write(etc / "koji.conf.d" / "a.conf", f"[other]\nserver = {SERVER}\n")
    with pytest.raises(KojiConfigError) as info:
        read("koji", etc, home)
    message = str(info.value)
    assert "no configuration for profile name: koji" in message
    assert str(etc / "koji.conf.d" / "a.conf") + "," in message
    assert f"{etc / 'koji.conf'} (not found)" in message
    assert f"{home / '.koji' / 'config'} (not found)" in message
    assert isinstance(info.value, ValueError)


def test_default_section_alone_does_not_make_a_profile(tmp_path: Path) -> None:
    path = write(tmp_path / "k.conf", f"[DEFAULT]\nserver = {SERVER}\n")
    with pytest.raises(KojiConfigError, match="profile name: koji"):
        read_config("koji", [path])


def test_profile_without_server_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path / "k.conf", "[koji]\ntimeout = 5\n")
    with pytest.raises(KojiConfigError) as info:
        read_config("koji", [path])
    assert "'koji'" in str(info.value)
    assert "server" in str(info.value)
    assert str(path) in str(info.value)


def test_empty_server_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path / "k.conf", "[koji]\nserver =\n")
    with pytest.raises(KojiConfigError, match="no server"):
        read_config("koji", [path])


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"server = x\n", "no section header"),
        (b"[koji]\nserver = a\n[koji]\n", "already exists"),
        (b"[koji]\nserver = \xff\n", "decode"),
    ],
)
def test_unparseable_file_error_names_file_and_problem(
    tmp_path: Path, content: bytes, problem: str
) -> None:
    path = tmp_path / "broken.conf"
    path.write_bytes(content)
    with pytest.raises(KojiConfigError) as info:
        read_config("koji", [path])
    assert str(path) in str(info.value)
    assert problem in str(info.value)


def test_directory_named_as_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(KojiConfigError, match=str(tmp_path)):
        read_config("koji", [tmp_path])


# paths


def test_paths_are_tilde_expanded(tmp_path: Path, home: Path) -> None:
    path = one_file(
        tmp_path,
        "cert = ~/c.pem\nserverca = ~/ca.pem\nkeytab = ~/k.keytab\n"
        "topdir = ~/topdir\nplugin_paths = ~/p1:/abs/p2\n",
    )
    cfg = read_config("koji", [path], home=home)
    assert cfg["cert"] == str(home / "c.pem")
    assert cfg["serverca"] == str(home / "ca.pem")
    assert cfg["keytab"] == str(home / "k.keytab")
    assert cfg["topdir"] == str(home / "topdir")
    assert cfg["plugin_paths"] == f"{home / 'p1'}:/abs/p2"


def test_cert_and_serverca_default_to_existing_home_files(
    tmp_path: Path, home: Path
) -> None:
    write(home / ".koji" / "client.crt", "cert")
    write(home / ".koji" / "serverca.crt", "ca")
    cfg = read_config("koji", [one_file(tmp_path, "")], home=home)
    assert cfg["cert"] == str(home / ".koji" / "client.crt")
    assert cfg["serverca"] == str(home / ".koji" / "serverca.crt")
    assert cfg.files == (str(tmp_path / "koji.conf"),)


def test_cert_and_serverca_stay_unset_when_home_files_are_missing(
    tmp_path: Path, home: Path
) -> None:
    write(home / ".koji" / "other.crt", "cert")
    cfg = read_config("koji", [one_file(tmp_path, "")], home=home)
    assert cfg["cert"] is None
    assert cfg["serverca"] is None


def test_configured_cert_wins_over_home_default(tmp_path: Path, home: Path) -> None:
    write(home / ".koji" / "client.crt", "cert")
    cfg = read_config("koji", [one_file(tmp_path, "cert = /x.pem\n")], home=home)
    assert cfg["cert"] == "/x.pem"


# profile_names() and profile_option()


def test_profile_names_lists_every_section_sorted_once(etc: Path, home: Path) -> None:
    write(etc / "koji.conf.d" / "a.conf", "[fedora]\n[DEFAULT]\ntimeout = 1\n")
    write(etc / "koji.conf", "[koji]\n[brew]\n")
    write(home / ".koji" / "config", "[fedora]\n[alpha]\n")
    names = profile_names(system_dir=etc, home=home)
    assert names == ["alpha", "brew", "fedora", "koji"]


def test_profile_names_of_explicit_files(tmp_path: Path) -> None:
    path = write(tmp_path / "k.conf", "[b]\n[a]\n")
    assert profile_names([path, tmp_path / "absent.conf"]) == ["a", "b"]


def test_profile_names_of_nothing_is_empty(etc: Path, home: Path) -> None:
    assert profile_names(system_dir=etc, home=home) == []


def test_profile_option_is_what_the_files_set(tmp_path: Path) -> None:
    path = one_file(tmp_path, "Timeout = 12\nanon_retry = yes\ncert = ~/c.pem\n")
    assert profile_option("koji", "timeout", [path]) == 12
    assert profile_option("koji", "TIMEOUT", [path]) == 12
    assert profile_option("koji", "anon_retry", [path]) is True
    assert profile_option("koji", "cert", [path], home=tmp_path) == f"{tmp_path}/c.pem"


def test_profile_option_is_none_when_not_set(tmp_path: Path) -> None:
    path = one_file(tmp_path, "")
    assert profile_option("koji", "weburl", [path]) is None  # no default
    assert profile_option("koji", "nonesuch", [path]) is None
    assert profile_option("absent", "server", [path]) is None


def test_profile_option_reads_default_and_ignores_other_options(
    tmp_path: Path,
) -> None:
    path = write(
        tmp_path / "koji.conf",
        "[DEFAULT]\nweburl = https://w.test/koji\n[noserver]\ntimeout = soon\n",
    )
    assert profile_option("noserver", "weburl", [path]) == "https://w.test/koji"
    with pytest.raises(KojiConfigError, match="'timeout'"):
        profile_option("noserver", "timeout", [path])


# from_options() and resolve()


def test_from_options_converts_values() -> None:
    cfg = from_options(
        server=SERVER,
        timeout="30",
        max_retries=4,
        anon_retry="yes",
        debug=True,
        serverca=Path("/ca.pem"),
        x_mine=[1, 2],
    )
    assert cfg["server"] == SERVER
    assert cfg["timeout"] == 30
    assert cfg["max_retries"] == 4
    assert cfg["anon_retry"] is True
    assert cfg["debug"] is True
    assert cfg["serverca"] == "/ca.pem"
    assert cfg["x_mine"] == [1, 2]
    assert cfg["weburl"] == DEFAULTS["weburl"]
    assert cfg.profile is None
    assert cfg.files == ()


def test_from_options_expands_tilde() -> None:
    cfg = from_options(server=SERVER, cert="~/c.pem")
    assert cfg["cert"] == os.path.join(os.path.expanduser("~"), "c.pem")


def test_from_options_rejects_unknown_names() -> None:
    with pytest.raises(KojiConfigError, match="tiemout"):
        from_options(server=SERVER, tiemout=5)


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("timeout", -1.5),
        ("timeout", True),
        ("timeout", "x"),
        ("debug", 1),
        ("debug", "sometimes"),
        ("weburl", 5),
        ("max_connections_per_host", -1),
        ("max_header_size", 0),
        ("upload_blocksize", 0),
    ],
)
def test_from_options_rejects_bad_values(option: str, value) -> None:
    with pytest.raises(KojiConfigError) as info:
        from_options("mine", server=SERVER, **{option: value})
    message = str(info.value)
    for part in (repr(option), repr(value), "'mine'", "keyword arguments"):
        assert part in message


def test_from_options_requires_server() -> None:
    with pytest.raises(KojiConfigError, match="no server"):
        from_options(timeout=5)


def test_resolve_puts_options_over_the_profile(tmp_path: Path, home: Path) -> None:
    path = one_file(tmp_path, "timeout = 5\npoll_interval = 2\n")
    cfg = resolve("koji", [path], {"timeout": "7"}, home=home)
    assert cfg["timeout"] == 7
    assert cfg["poll_interval"] == 2
    assert cfg.profile == "koji"
    assert cfg.files == (str(path),)


def test_resolve_rejects_unknown_option_names(tmp_path: Path) -> None:
    with pytest.raises(KojiConfigError, match="sever"):
        resolve("koji", [one_file(tmp_path, "")], {"sever": SERVER})


def test_resolve_without_profile_reads_no_file() -> None:
    cfg = resolve(None, None, {"server": SERVER})
    assert cfg["server"] == SERVER
    assert cfg.files == ()


# ProfileConfig


def test_profile_config_is_a_read_only_mapping_with_attributes(
    tmp_path: Path,
) -> None:
    cfg = read_config("koji", [one_file(tmp_path, "")])
    assert cfg.server == SERVER
    assert cfg.timeout == 43200
    assert "server" in cfg
    assert len(cfg) == len(DEFAULTS)
    with pytest.raises(AttributeError, match="nonesuch"):
        cfg.nonesuch  # noqa: B018
    with pytest.raises(TypeError):
        cfg["server"] = "x"  # type: ignore[index]
    with pytest.raises(AttributeError, match="read-only"):
        cfg.server = "x"
    assert "'koji'" in repr(cfg)
    assert SERVER in repr(cfg)


# server URLs with user info


@pytest.mark.parametrize(
    "server",
    [
        "http://alice:pw@koji.example.com/kojihub",
        "https://alice:pw@koji.example.com:8443/kojihub",
        "http://alice:p@w@koji.example.com/kojihub",
        "http://alice:pw@koji.example.com:port/kojihub",
        "ftp://alice:pw@koji.example.com/kojihub",
    ],
)
def test_server_with_a_password_is_refused_masked(server: str) -> None:
    with pytest.raises(KojiConfigError) as caught:
        hub_url(server, "mine")
    message = str(caught.value)
    assert "'mine'" in message and "***@koji.example.com" in message
    assert "pw" not in message and "p@w" not in message


def test_server_with_only_a_user_name_is_refused() -> None:
    with pytest.raises(KojiConfigError, match="user info"):
        hub_url("https://alice@koji.example.com/kojihub", None)


def test_profile_config_repr_masks_a_password_in_server(tmp_path: Path) -> None:
    cfg = from_options(server="http://alice:pw@koji.example.com/kojihub")
    assert "pw" not in repr(cfg) and "***@koji.example.com" in repr(cfg)
    assert hub_url(SERVER, None) == SERVER


def test_login_options_from_a_file(tmp_path: Path) -> None:
    path = one_file(
        tmp_path,
        "authtype = password\nuser = alice\npassword = p%%w\n"
        "allow_password_over_http = yes\nproxyuser = bob\nproxyauthtype = Kerberos\n",
    )
    cfg = read_config("koji", [path])
    assert (cfg.user, cfg.password) == ("alice", "p%%w")
    assert cfg.allow_password_over_http is True
    assert (cfg.proxyuser, cfg.proxyauthtype) == ("bob", 3)
    assert "p%%w" not in repr(cfg)


@pytest.mark.parametrize(
    ("value", "number"), [("ssl", 2), ("gssapi", 3), (2, 2), ("3", 3)]
)
def test_proxyauthtype_reads_as_the_hubs_number(value, number) -> None:
    cfg = from_options(server="https://h/kojihub", proxyauthtype=value)
    assert cfg.proxyauthtype == number


@pytest.mark.parametrize("value", ["password", 0, 1, True, "4"])
def test_proxyauthtype_other_values_are_refused(value) -> None:
    with pytest.raises(KojiConfigError, match="proxyauthtype.*ssl, kerberos, gssapi"):
        from_options(server="https://h/kojihub", proxyauthtype=value)


def test_with_options_converts_and_keeps_the_rest(tmp_path: Path) -> None:
    cfg = from_options("p", server="https://h/kojihub", timeout=5)
    changed = cfg.with_options(proxyuser="bob", proxyauthtype="ssl", user=None)
    assert (changed.proxyuser, changed.proxyauthtype) == ("bob", 2)
    assert changed.timeout == 5 and changed.profile == "p"
    assert cfg.proxyuser is None
    with pytest.raises(KojiConfigError, match="unknown koji option"):
        cfg.with_options(proxy_user="bob")


def test_a_malformed_password_is_not_shown() -> None:
    with pytest.raises(KojiConfigError, match="password") as caught:
        from_options(server="https://h/kojihub", password=["hunter2"])
    assert "hunter2" not in str(caught.value)
