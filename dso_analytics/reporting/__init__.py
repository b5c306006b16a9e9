"""Presentation: plotly charts, the Excel workbook, HTML export and notebook helpers.

Submodules are imported on demand (``dso_analytics.reporting.charts`` needs
plotly, ``excel`` needs xlsxwriter, ``html`` needs nbconvert); importing this
package imports none of them.
"""
