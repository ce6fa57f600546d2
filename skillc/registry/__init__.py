"""The skill registry: publish, pull, pin, verify and sign skills, over HTTP or on a plain directory.

A published version is immutable and named by its digest (sha256 of its canonical manifest); tags are
mutable pointers. The stored layout is static (`layout`), so a bucket or a CDN can serve reads; the server
(`server`) adds authenticated publishing and a browsable index. Pulling (`client.pull`) verifies, in order:
the archive digest, safe extraction, every file against the manifest, the signature; nothing is unpickled
or executed.
"""
