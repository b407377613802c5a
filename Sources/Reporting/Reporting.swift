// Reports: small value types that render tables (Markdown, HTML) and figures (SVG) as text,
// and one self-contained HTML page that holds them. Nothing here knows about pipelines or
// stages; the `report` stage kind binds its inputs to these types.
//
// Every renderer is deterministic: the same values give the same bytes (members in the order
// given, numbers through `NumberText`, no dates or random ids), and all text is escaped
// through `Markup.escaped`.
