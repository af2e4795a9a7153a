# Augmenting declarations for the compiled build of aof.py (Cython pure-Python mode): C types
# for scan_canonical's loop. aof.py stays plain Python; this file is read only by Cython.
cimport cython

@cython.locals(buf="const unsigned char *", n=Py_ssize_t, count=Py_ssize_t, c="unsigned char",
               p=Py_ssize_t, q=Py_ssize_t, argc=Py_ssize_t, digits=Py_ssize_t, i=Py_ssize_t,
               ln=Py_ssize_t, cmds=list, ends=list, argv=list)
cpdef tuple scan_canonical(bytes data, Py_ssize_t pos, Py_ssize_t limit)
