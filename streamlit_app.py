"""Entry script: `streamlit run streamlit_app.py` (configuration comes from streamlit_config/)."""

import streamlit as st

from dashboard.i18n import Translator
from dashboard.ui import shell
from dashboard.ui.context import current_lang

translator = Translator(current_lang())
st.set_page_config(page_title=translator("app.title"), layout="wide")
# Navigation first: it replaces Streamlit's default file-name menu even while the demo loads.
page = shell.navigation(translator)
shell.ensure_demo_data()
translator = shell.render_sidebar()
shell.demo_banner(translator)
page.run()
