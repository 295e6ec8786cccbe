"""``footy-assets serve``: the vendor API (tracking download, frame-state filter, schema, events) over HTTP,
answered from the lake's published rows. A shell beside the command line: it reads the lake and never imports
Dagster. ``app.create_app`` builds the ASGI app; ``streaming`` sends the download as it is made; ``models`` are
the shapes of the OpenAPI document; ``settings`` what the server enforces."""
