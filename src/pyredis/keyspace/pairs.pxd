# Augmenting declarations for the compiled build of pairs.py (Cython pure-Python mode): the
# tables as dicts, the indexes and lengths as C integers (the used_memory sum stays a Python int:
# the prices it adds are ones). pairs.py stays plain Python.
cimport cython

@cython.locals(n=Py_ssize_t, i=Py_ssize_t, m=Py_ssize_t, size=Py_ssize_t, used=object, data=dict, lru=dict)
cpdef set_pairs(object db, tuple args)
