"""The CSMS's certificate authority for station certificates (A02/A03, 1.6 security extension):
the CA's keys and certificates (`ca.py`) and the checks and hash data of certificates (`x509.py`)."""
