# Augmenting declarations for the compiled build of parser.py (Cython pure-Python mode): C types
# for scan_multibulk's loop. parser.py stays plain Python; this file is read only by Cython.
cimport cython

@cython.locals(buf="const unsigned char *", n=Py_ssize_t, p=Py_ssize_t, q=Py_ssize_t, count_out=Py_ssize_t,
               count=Py_ssize_t, i=Py_ssize_t, ln=Py_ssize_t, c="unsigned char", out=list, ends=list, argv=list)
cpdef tuple scan_multibulk(bytes data, Py_ssize_t pos, Py_ssize_t limit, Py_ssize_t max_bulk, bint aof)

@cython.locals(start=Py_ssize_t, v=Py_ssize_t, c="unsigned char", d=Py_ssize_t)
cdef inline (Py_ssize_t, Py_ssize_t) _decimal(const unsigned char *buf, Py_ssize_t p, Py_ssize_t n)
