"""wasmdeploy's Python runtime: what runs inside each Pyodide interpreter."""
