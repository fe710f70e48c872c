"""Who this browser session is: a random visitor id kept in the session, and host access by a secret.

Neither lives in the URL. An id in the URL made a shared link share the sender's jobs and uploads, and any
id could be claimed by typing it. Streamlit cannot set cookies, so the id lasts as long as the session: a
reload starts a new visitor, while running jobs carry on and finished experiments stay in the picker.
"""

from __future__ import annotations

import secrets

import streamlit as st

from tieviz.env import env_text
from tieviz.jobs.limits import host_token, is_host_token

VISITOR_KEY = "tieviz_visitor"  # session-state keys; no widget or URL parameter uses them
TRUSTED_KEY = "tieviz_host_access"
TOKEN_INPUT = "host_token_input"
OLD_URL_PARAM = "visitor"  # links made before identity left the URL still carry it
TRUST_PROXY_ENV = "TIEVIZ_TRUST_PROXY"  # "1": a reverse proxy sets X-Forwarded-For; use its last hop


def trusts_proxy() -> bool:
    """Whether the host said a reverse proxy of theirs stands in front (TIEVIZ_TRUST_PROXY=1)."""
    value = env_text(TRUST_PROXY_ENV, "0").lower()
    if value not in ("0", "1", "false", "true", "no", "yes"):
        raise ValueError(f"{TRUST_PROXY_ENV} must be 1 or 0, not {value!r}.")
    return value in ("1", "true", "yes")


def address() -> str | None:
    """The address this session's requests come from, for the per-address job cap and fair share.

    Streamlit's `st.context.ip_address` (None on the host's own machine); behind a proxy the host trusts,
    the last X-Forwarded-For hop, the address that proxy saw (earlier hops are whatever the client sent).
    A forwarded header without a trusted proxy is ignored: anyone can send one.
    """
    if trusts_proxy():
        forwarded = st.context.headers.get("X-Forwarded-For")
        hops = (
            [hop.strip() for hop in forwarded.split(",") if hop.strip()] if isinstance(forwarded, str) else []
        )
        if hops:
            return hops[-1]
    ip = st.context.ip_address
    return ip if isinstance(ip, str) and ip else None  # (AppTest's context answers with mock objects)


def visitor() -> str:
    """This session's visitor id, made at random on first use; a ?visitor= in the URL is dropped unread."""
    if VISITOR_KEY not in st.session_state:
        st.session_state[VISITOR_KEY] = secrets.token_hex(8)
    if OLD_URL_PARAM in st.query_params:
        del st.query_params[OLD_URL_PARAM]
    return st.session_state[VISITOR_KEY]


def trusted() -> bool:
    """Whether this session gave the host's token (see `host_access`)."""
    return bool(st.session_state.get(TRUSTED_KEY))


def _check_token() -> None:
    """Callback of the token box: the typed text is compared, then forgotten, never kept or shown."""
    given = st.session_state.pop(TOKEN_INPUT, "") or ""
    st.session_state[TRUSTED_KEY] = is_host_token(given)
    st.session_state["host_token_refused"] = bool(given) and not st.session_state[TRUSTED_KEY]


def host_access() -> None:
    """A password box for the host's token, shown only where the host set TIEVIZ_HOST_TOKEN."""
    if not host_token():
        return
    if trusted():
        st.caption("Host access: this site's size, budget and time limits do not apply in this session.")
        return
    with st.expander("Host access", icon=":material/key:"):
        st.text_input("Host token", type="password", key=TOKEN_INPUT, on_change=_check_token)
        if st.session_state.get("host_token_refused"):
            st.error("That is not this site's host token.", icon=":material/block:")
