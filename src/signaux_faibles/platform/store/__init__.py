"""The platform's database: the tables by aggregate (``identity``, ``series``, ``lists``, ``accounts``, ``work``,
``audit``) on one ``Base`` (``base``); ``platform.models`` gathers them."""
