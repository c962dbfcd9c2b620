"""Entry script: `streamlit run streamlit_app.py` (configuration comes from streamlit_config/)."""

import streamlit as st

from dashboard.ui import shell
from dashboard.ui.context import current_lang
from dashboard.i18n import Translator

st.set_page_config(page_title=Translator(current_lang())("app.title"), layout="wide")
shell.ensure_demo_data()
translator = shell.render_sidebar()
page = shell.navigation(translator)
shell.demo_banner(translator)
page.run()
