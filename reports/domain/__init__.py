"""The domain's algorithms: pure computations over rows and values, with no writes.

Services call them inside their transactions; faces call them to show results. None of
them imports a service, a task or a face.
"""
