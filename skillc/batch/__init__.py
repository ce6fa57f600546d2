"""Batch runs of a skill: many inputs at once, bounded, in input order, resumable after a kill.

`run_batch` (in `runner`) runs inputs on a thread pool and writes their result lines in input order; `Journal`
(in `journal`) records each finished line so a killed batch resumes where it stopped. Spreading the student's calls
over several endpoints is the student's own business (`skillc.adapters.replicas`).
"""
