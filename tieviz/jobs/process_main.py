"""The `__main__` of a job's worker process: deliberately empty.

multiprocessing runs the parent's main module again in every child it starts. Under Streamlit that is
app.py, so `tieviz.jobs.local` names this module instead. It must be a module nothing imports (not the
worker, which the fork server preloads): runpy warns with a RuntimeWarning, into every job's log, when
it is asked to run a module that is already imported.
"""
