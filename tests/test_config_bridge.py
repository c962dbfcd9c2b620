"""streamlit_config/ is what `streamlit run` really uses (through the .streamlit link)."""

import json
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "streamlit_config" / "config.toml"

PROBE = """
import json
from streamlit import config
config.get_config_options(force_reparse=True)
names = ["theme.primaryColor", "theme.base", "server.maxUploadSize", "server.headless",
         "browser.gatherUsageStats", "client.toolbarMode"]
print(json.dumps({n: config.get_option(n) for n in names}))
"""


def test_dot_streamlit_is_a_link_to_streamlit_config():
    link = ROOT / ".streamlit"
    assert link.is_symlink()
    assert link.resolve() == (ROOT / "streamlit_config").resolve()
    assert (link / "config.toml").read_bytes() == CONFIG.read_bytes()


def test_streamlit_run_from_project_root_reads_our_options(tmp_path):
    expected = tomllib.loads(CONFIG.read_text(encoding="utf-8"))
    # A clean HOME so a user-level ~/.streamlit/config.toml cannot mask or fake the result.
    env = {"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen["theme.primaryColor"] == expected["theme"]["primaryColor"]
    assert seen["theme.base"] == expected["theme"]["base"]
    assert seen["server.maxUploadSize"] == expected["server"]["maxUploadSize"]
    assert seen["server.headless"] is True
    assert seen["browser.gatherUsageStats"] is False
    assert seen["client.toolbarMode"] == expected["client"]["toolbarMode"]


def test_elsewhere_the_defaults_apply(tmp_path):
    """Control: outside the project root Streamlit does not see our file (so the probe can fail)."""
    env = {"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=tmp_path, env=env, capture_output=True, text=True, check=True)
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen["theme.primaryColor"] != tomllib.loads(CONFIG.read_text(encoding="utf-8"))["theme"]["primaryColor"]
