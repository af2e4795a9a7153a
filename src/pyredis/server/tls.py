"""TLS: the server's SSLContext from the tls-* directives, as Redis 7.0's tlsConfigure().

Python's `ssl` does the TLS, on the server's event loop (connection.py upgrades an accepted
socket with loop.start_tls). What `ssl.SSLContext` has no method for -- TLS 1.3 ciphersuites and
the server session cache -- is set on the context's own OpenSSL SSL_CTX through ctypes when this
Python's `_ssl` exposes OpenSSL's symbols (checked: the SSL_CTX options read back must equal
`ctx.options`); otherwise those directives warn that they have no effect (NOT_IMPLEMENTED).

Failures log Redis's lines ("Failed to load certificate: PATH: REASON", "No tls-cert-file
configured!", ...) and raise TLSError; the caller logs "Failed to configure TLS. Check logs for
more info." and exits (start-up) or answers CONFIG SET's "Unable to update TLS configuration.
Check server logs.". REASON is OpenSSL's reason as Python reports it ("No such file or
directory", "key values mismatch"), without OpenSSL's numeric error code.

API:
    ctx = build_context(config, log)     # ssl.SSLContext, or raises TLSError (already logged)
    set_client_auth(ctx, config)         # tls-auth-clients -> verify_mode, for the next accept
    tls_enabled(config)                  # tls-port, tls-replication or tls-cluster
    replication_context(config, log)     # the replica's side of a tls-replication link
    not_implemented(config) -> [(directive, why)]   # set, accepted, without effect in pyredis
"""

from __future__ import annotations

import ctypes
import ssl
import warnings
from typing import Callable

# The directives whose change reconfigures TLS (Redis's applyTlsCfg), and those that reload
# their file even when set to the same value (Redis's VOLATILE_CONFIG).
TLS_DIRECTIVES = (
    "tls-cert-file", "tls-key-file", "tls-key-file-pass", "tls-client-cert-file", "tls-client-key-file",
    "tls-client-key-file-pass", "tls-dh-params-file", "tls-ca-cert-file", "tls-ca-cert-dir", "tls-protocols",
    "tls-ciphers", "tls-ciphersuites", "tls-prefer-server-ciphers", "tls-session-caching",
    "tls-session-cache-size", "tls-session-cache-timeout", "tls-replication", "tls-cluster",
)
TLS_FILES = ("tls-cert-file", "tls-key-file", "tls-client-cert-file", "tls-client-key-file", "tls-dh-params-file",
             "tls-ca-cert-file", "tls-ca-cert-dir")

_PROTOCOLS = {"tlsv1": ssl.TLSVersion.TLSv1, "tlsv1.1": ssl.TLSVersion.TLSv1_1, "tlsv1.2": ssl.TLSVersion.TLSv1_2,
              "tlsv1.3": ssl.TLSVersion.TLSv1_3}
_NO_FLAG = {ssl.TLSVersion.TLSv1: "OP_NO_TLSv1", ssl.TLSVersion.TLSv1_1: "OP_NO_TLSv1_1",
            ssl.TLSVersion.TLSv1_2: "OP_NO_TLSv1_2", ssl.TLSVersion.TLSv1_3: "OP_NO_TLSv1_3"}
_AUTH = {"no": ssl.CERT_NONE, "optional": ssl.CERT_OPTIONAL, "yes": ssl.CERT_REQUIRED}


class TLSError(Exception):
    """TLS could not be configured; the reason is already in the log."""


def tls_enabled(cfg) -> bool:
    return bool(cfg["tls-port"] or cfg["tls-replication"] or cfg["tls-cluster"])


def set_client_auth(ctx: ssl.SSLContext, cfg) -> None:
    """tls-auth-clients for the connections accepted from now on (Redis reads it per accept)."""
    mode = _AUTH.get(cfg["tls-auth-clients"], ssl.CERT_REQUIRED)
    if ctx.verify_mode != mode:
        ctx.verify_mode = mode


def _reason(e: BaseException) -> str:
    """OpenSSL's reason text as Python reports it."""
    if isinstance(e, ssl.SSLError):
        if e.reason:
            return e.reason.lower().replace("_", " ")
        if "PEM lib" in str(e):  # Python does not pass OpenSSL's reason on here
            return "cannot decode the PEM key (not a key, or a wrong tls-key-file-pass)"
        return str(e)
    if isinstance(e, OSError) and e.strerror:
        return e.strerror
    return str(e)


def _password(text: str) -> Callable[[], bytes]:
    # A callback even without a password: OpenSSL's default would prompt on the terminal.
    pw = text.encode("utf-8", "surrogateescape")
    return lambda: pw


def _parse_protocols(text: str, log) -> set[ssl.TLSVersion] | None:
    if not text:
        return {ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3}
    out = set()
    for word in text.split(" "):
        v = _PROTOCOLS.get(word.lower())
        if v is None:
            log("warning", "Invalid tls-protocols specified. Use a combination of 'TLSv1', 'TLSv1.1', 'TLSv1.2' "
                "and 'TLSv1.3'.")
            return None
        out.add(v)
    return out


def _base_context(cfg, protocols: set[ssl.TLSVersion], client: bool, log,
                  client_pair: bool | None = None) -> ssl.SSLContext:
    """Redis's createSSLContext: certificate and key, CA, protocols, ciphers. `client`: the
    context connects out; `client_pair`: with the tls-client-* pair (default: as `client`)."""
    pair = client if client_pair is None else client_pair
    cert = cfg["tls-client-cert-file" if pair else "tls-cert-file"]
    key = cfg["tls-client-key-file" if pair else "tls-key-file"]
    pw = cfg["tls-client-key-file-pass" if pair else "tls-key-file-pass"]
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT if client else ssl.PROTOCOL_TLS_SERVER)
    with warnings.catch_warnings():  # TLSv1/TLSv1.1 and the OP_NO_* switches are deprecated
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx.minimum_version = min(protocols)
        ctx.maximum_version = max(protocols)
        # a gap (TLSv1 TLSv1.2): OpenSSL's per-version switch, as Redis sets them
        for v, flag in _NO_FLAG.items():
            if min(protocols) < v < max(protocols) and v not in protocols:
                ctx.options |= getattr(ssl, flag)
    ctx.options |= ssl.OP_NO_COMPRESSION
    try:
        ctx.load_cert_chain(cert, key, password=_password(pw))
    except (ssl.SSLError, OSError) as e:
        # Python loads both at once: tell which file OpenSSL refused, as Redis's two steps do
        if _cert_readable(cert):
            log("warning", f"Failed to load private key: {key}: {_reason(e)}")
        else:
            log("warning", f"Failed to load certificate: {cert}: {_reason(_cert_error(cert) or e)}")
        raise TLSError from None
    ca_file, ca_dir = cfg["tls-ca-cert-file"], cfg["tls-ca-cert-dir"]
    if ca_file or ca_dir:
        try:
            ctx.load_verify_locations(cafile=ca_file or None, capath=ca_dir or None)
        except (ssl.SSLError, OSError) as e:
            log("warning", f"Failed to configure CA certificate(s) file/directory: {_reason(e)}")
            raise TLSError from None
    ciphers = cfg["tls-ciphers"]
    try:
        ctx.set_ciphers(ciphers or "DEFAULT")  # Redis leaves OpenSSL's default list
    except ssl.SSLError:
        log("warning", f"Failed to configure ciphers: {ciphers}")
        raise TLSError from None
    suites = cfg["tls-ciphersuites"]
    if suites:
        native = _Native.of(ctx)
        if native is not None and not native.set_ciphersuites(suites):
            log("warning", f"Failed to configure ciphersuites: {suites}")
            raise TLSError from None
    return ctx


def _cert_readable(path: str) -> bool:
    return _cert_error(path) is None


def _cert_error(path: str) -> BaseException | None:
    """Why the certificate (chain) file cannot be used alone, or None when it can."""
    probe = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    try:
        probe.load_verify_locations(cafile=path)  # parses the PEM certificates
    except (ssl.SSLError, OSError) as e:
        return e
    return None


def build_context(cfg, log) -> ssl.SSLContext:
    """Redis's tlsConfigure: a new context, or TLSError (logged) leaving the caller's as it was."""
    if not cfg["tls-cert-file"]:
        log("warning", "No tls-cert-file configured!")
        raise TLSError
    if not cfg["tls-key-file"]:
        log("warning", "No tls-key-file configured!")
        raise TLSError
    if ((cfg["tls-auth-clients"] != "no" or cfg["tls-cluster"] or cfg["tls-replication"])
            and not cfg["tls-ca-cert-file"] and not cfg["tls-ca-cert-dir"]):
        log("warning", "Either tls-ca-cert-file or tls-ca-cert-dir must be specified when tls-cluster, "
            "tls-replication or tls-auth-clients are enabled!")
        raise TLSError
    protocols = _parse_protocols(cfg["tls-protocols"], log)
    if protocols is None:
        raise TLSError
    ctx = _base_context(cfg, protocols, False, log)
    native = _Native.of(ctx)
    if native is not None:
        if cfg["tls-session-caching"]:
            native.session_cache(cfg["tls-session-cache-size"], cfg["tls-session-cache-timeout"])
        else:
            native.session_cache(None, 0)
    if cfg["tls-prefer-server-ciphers"]:
        ctx.options |= ssl.OP_CIPHER_SERVER_PREFERENCE
    else:
        ctx.options &= ~ssl.OP_CIPHER_SERVER_PREFERENCE  # Python sets it; OpenSSL's default is off
    ctx.options |= ssl.OP_NO_RENEGOTIATION
    dh = cfg["tls-dh-params-file"]
    if dh:
        try:
            ctx.load_dh_params(dh)
        except OSError as e:
            if isinstance(e, ssl.SSLError):
                log("warning", f"{dh}: failed to read DH params.")
            else:
                log("warning", f"Failed to load {dh}: {e.strerror}")
            raise TLSError from None
    if cfg["tls-client-cert-file"] and cfg["tls-client-key-file"]:
        # the client side context of the replication link: checked as Redis does
        _base_context(cfg, protocols, True, log)
    set_client_auth(ctx, cfg)
    return ctx


def replication_context(cfg, log) -> ssl.SSLContext:
    """The replica's side of a tls-replication link: the tls-client-cert-file / -key-file
    pair when both are set, else the server's own; the master's certificate is verified
    against the CA, without a host name check (as Redis's outgoing TLS connections)."""
    protocols = _parse_protocols(cfg["tls-protocols"], log)
    if protocols is None:
        raise TLSError
    own = bool(cfg["tls-client-cert-file"] and cfg["tls-client-key-file"])
    ctx = _base_context(cfg, protocols, True, log, client_pair=own)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx


def not_implemented(cfg) -> list[tuple[str, str]]:
    """The tls-* directives set to something pyredis accepts but cannot honour."""
    out = []
    if cfg["tls-cluster"]:
        out.append(("tls-cluster", "pyredis has no cluster bus"))
    if not native_available():
        why = "this Python's ssl module does not expose OpenSSL's SSL_CTX"
        if cfg["tls-ciphersuites"]:
            out.append(("tls-ciphersuites", why))
        if not cfg["tls-session-caching"]:
            out.append(("tls-session-caching", why))
        if cfg["tls-session-cache-size"] != 20480:
            out.append(("tls-session-cache-size", why))
        if cfg["tls-session-cache-timeout"] != 300:
            out.append(("tls-session-cache-timeout", why))
    return out


# --- OpenSSL calls Python's ssl module has no method for -------------------------------------
_SSL_CTRL_SET_SESS_CACHE_SIZE = 42
_SSL_CTRL_SET_SESS_CACHE_MODE = 44
_SSL_SESS_CACHE_OFF = 0
_SSL_SESS_CACHE_SERVER = 2


class _Native:
    """The SSL_CTX of an ssl.SSLContext (the first field after the object header in CPython's
    PySSLContext), and the libssl functions reached through the `_ssl` extension."""

    _lib = None
    _checked = False

    def __init__(self, ptr: int) -> None:
        self.ptr = ptr

    @classmethod
    def _load(cls):
        if not cls._checked:
            cls._checked = True
            try:
                import _ssl

                lib = ctypes.CDLL(_ssl.__file__)
                for name, res, args in (
                    ("SSL_CTX_get_options", ctypes.c_uint64, [ctypes.c_void_p]),
                    ("SSL_CTX_set_ciphersuites", ctypes.c_int, [ctypes.c_void_p, ctypes.c_char_p]),
                    ("SSL_CTX_ctrl", ctypes.c_long, [ctypes.c_void_p, ctypes.c_int, ctypes.c_long, ctypes.c_void_p]),
                    ("SSL_CTX_set_timeout", ctypes.c_long, [ctypes.c_void_p, ctypes.c_long]),
                    ("SSL_CTX_set_session_id_context", ctypes.c_int,
                     [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_uint]),
                ):
                    f = getattr(lib, name)
                    f.restype, f.argtypes = res, args
                cls._lib = lib
            except (OSError, AttributeError, ImportError):
                cls._lib = None
        return cls._lib

    @classmethod
    def of(cls, ctx: ssl.SSLContext) -> _Native | None:
        lib = cls._load()
        if lib is None:
            return None
        ptr = ctypes.c_void_p.from_address(id(ctx) + object.__basicsize__).value
        if not ptr or lib.SSL_CTX_get_options(ptr) != ctx.options:
            return None  # not the layout we expect: do not touch it
        return cls(ptr)

    def set_ciphersuites(self, suites: str) -> bool:
        return self._lib.SSL_CTX_set_ciphersuites(self.ptr, suites.encode()) == 1

    def session_cache(self, size: int | None, timeout: int) -> None:
        lib = self._lib
        if size is None:
            lib.SSL_CTX_ctrl(self.ptr, _SSL_CTRL_SET_SESS_CACHE_MODE, _SSL_SESS_CACHE_OFF, None)
            return
        lib.SSL_CTX_ctrl(self.ptr, _SSL_CTRL_SET_SESS_CACHE_MODE, _SSL_SESS_CACHE_SERVER, None)
        lib.SSL_CTX_ctrl(self.ptr, _SSL_CTRL_SET_SESS_CACHE_SIZE, size, None)
        lib.SSL_CTX_set_timeout(self.ptr, timeout)
        lib.SSL_CTX_set_session_id_context(self.ptr, b"redis", 5)


def native_available() -> bool:
    return _Native.of(ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)) is not None
