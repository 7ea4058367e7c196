"""Dashboard: the Streamlit app and the meeting report; reads only the published mart."""
