"""envelopes"""
