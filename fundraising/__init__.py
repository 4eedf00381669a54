"""The public-fundraising report (rendiconto della raccolta fondi occasionale, art. 87 c. 6
D.Lgs. 117/2017): per campaign or event, the income Trama recorded, the expenses the treasurer
records, the explanatory note; a PDF and a spreadsheet to file with the yearly accounts."""
