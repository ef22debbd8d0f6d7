"""The lecture's console app (MSAL for Python + requests), pointed at a tokenscope sandbox
instead of Entra: the peer `benches/cli_call.sh` measures `tokenscope call` against.

As in the lecture (see /work/shared/reference/lecture-transcript.txt, 7:47-13:51): a
confidential client tries the token cache first (`acquire_token_silent`), then acquires a
token by client credentials, then a `requests` session calls the weather API with it and
prints the answer. A process starts with an empty MSAL cache, so every run requests a token.
The only changes for the sandbox: its CA is trusted (`verify`) and instance discovery (a call
to login.microsoftonline.com) is off.

usage: console_app.py CONFIG_TOML [PROFILE] [CITY]   (the config `tokenscope sandbox
--write-config` writes; the default profile and Seattle when omitted). Exits 1 when no token
was acquired or the API did not answer 200.
"""
import sys
import tomllib

import msal
import requests

config_path = sys.argv[1]
with open(config_path, "rb") as f:
    config = tomllib.load(f)
profile = config["profiles"][sys.argv[2] if len(sys.argv) > 2 else config["default_profile"]]
city = sys.argv[3] if len(sys.argv) > 3 else "Seattle"
ca = profile.get("ca_file", True)

msal_http = requests.Session()
msal_http.verify = ca
msal_http.trust_env = False  # REQUESTS_CA_BUNDLE would override verify otherwise

app = msal.ConfidentialClientApplication(
    profile["client_id"],
    authority=profile["authority"],
    client_credential=profile["client_secret"],
    instance_discovery=False,
    http_client=msal_http,
)
scopes = [profile["scope"]]
result = app.acquire_token_silent(scopes, account=None)
if not result:
    result = app.acquire_token_for_client(scopes=scopes)
if "access_token" not in result:
    sys.exit(f"authentication failure: {result.get('error')}")

session = requests.Session()
session.verify = ca
session.trust_env = False
session.headers.update({"Authorization": "Bearer " + result["access_token"]})
response = session.get(profile["api_url"].replace("{city}", city))
print(response.content.decode("utf-8", "replace"))
sys.exit(0 if response.status_code == 200 else 1)
