# Augmenting declarations for the compiled build of encoder.py (Cython pure-Python mode): C types
# for the per-element loop of a reply of many elements. encoder.py stays plain Python; this
# file is read only by Cython.
cimport cython

cdef list _LEN_CACHE, _NEXT_CACHE, _INT_CACHE, _ARR_CACHE

@cython.locals(m=Py_ssize_t, tx=object, crlf=bint)
cpdef _enc_items(object v, int resp, list out)

cdef void _enc_elements(object v, Py_ssize_t n, int resp, list out) except *

@cython.locals(total=Py_ssize_t, m=Py_ssize_t, k=Py_ssize_t, p=Py_ssize_t, j=Py_ssize_t, h=bytes, buf=bytearray,
               dst="unsigned char *", src="const unsigned char *", hs="const unsigned char *")
cpdef object _fill_bulks(object v)

@cython.locals(t=object, n=Py_ssize_t)
cpdef encode_into(object v, int resp, list out)

@cython.locals(t=object, n=Py_ssize_t)
cpdef _enc(object v, int resp, list out)

# fpconv_dtoa's Grisu2 in C's unsigned 64-bit arithmetic, as Redis 7.2's fpconv computes it:
# encoder.py keeps every intermediate below 2^64 or masks it where C wraps (_round_digit), so
# the interpreted and compiled builds give the same digits.
ctypedef unsigned long long u64

cdef u64 _M64, _HIDDEN, _B31

@cython.locals(lo=u64, ah=u64, al=u64, bh=u64, bl=u64, ah_bl=u64, al_bh=u64, mid=u64)
cdef (u64, int) _mul(u64 af, int ae, u64 bf, int be)

@cython.locals(m=double, e=int, frac=u64, exp=int, uf=u64, ue=int, ls=int, lf=u64, wf=u64, we=int,
               idx=int, cur=int, cf=u64, ce=int, k=int, wdist=u64, delta=u64, shift=int, one=u64,
               part1=u64, part2=u64, kappa=int, div=u64, digit=u64, rest=u64, unit=u64, digits=bytearray)
cpdef tuple _grisu2(double d)

cdef void _round_digit(bytearray digits, u64 delta, u64 rem, u64 kappa, u64 frac) except *

@cython.locals(neg=bint, digits=bytes, k=int, nd=int, exp=int, offset=int, out=bytes)
cpdef bytes fpconv_dtoa(double d)
