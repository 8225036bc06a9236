"""ONCEONLY_TRUSTED_PROXIES (config/server.py): whose forwarding headers the exchange
believes."""

from __future__ import annotations

import pytest

from onceonly.config import trusted_proxies


def test_by_default_only_a_proxy_on_this_machine_is_trusted(monkeypatch):
    monkeypatch.delenv("ONCEONLY_TRUSTED_PROXIES", raising=False)
    assert trusted_proxies() == ["127.0.0.1", "::1"]


def test_addresses_and_networks_are_read_and_empty_trusts_none(monkeypatch):
    monkeypatch.setenv("ONCEONLY_TRUSTED_PROXIES", " 10.0.0.7, 10.1.2.3/16 ,2001:db8::/32,")
    assert trusted_proxies() == ["10.0.0.7", "10.1.0.0/16", "2001:db8::/32"]
    monkeypatch.setenv("ONCEONLY_TRUSTED_PROXIES", "")
    assert trusted_proxies() == []


@pytest.mark.parametrize("value", ["*", "proxy.internal", "10.0.0.300", "10.0.0.0/33"])
def test_anything_else_is_refused_by_name(monkeypatch, value):
    monkeypatch.setenv("ONCEONLY_TRUSTED_PROXIES", f"127.0.0.1,{value}")
    with pytest.raises(ValueError, match=f"{value!r} is not an IP address or network"):
        trusted_proxies()
