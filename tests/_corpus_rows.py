"""Row writers of the header corpus (:mod:`_corpus`): one function per publisher's layout."""

from __future__ import annotations

import hashlib
from typing import Any

import pandas as pd
from _corpus_base import Row, arcgis, hhmm, iso, mdy, mdy_ampm, mdy_ampm_nopad


# --------------------------------------------------------------------------------------- the rows
def _nypd_complaints(r: Row) -> dict[str, Any]:
    end = r.when + pd.Timedelta(hours=2)
    open_ended = r.i % 3 == 0
    return {
        "CMPLNT_NUM": str(240000000 + r.i * 7),
        "CMPLNT_FR_DT": mdy(r.when),
        "CMPLNT_FR_TM": r.when.strftime("%H:%M:%S"),
        "CMPLNT_TO_DT": "" if open_ended else mdy(end),
        "CMPLNT_TO_TM": "" if open_ended else end.strftime("%H:%M:%S"),
        "ADDR_PCT_CD": str(r.pick(14, 18, 19, 75)),
        "RPT_DT": mdy(r.when + pd.Timedelta(days=1)),
        "KY_CD": str(r.pick(109, 341, 578, 344)),
        "OFNS_DESC": r.offence,
        "PD_CD": str(r.pick(321, 333, 638)),
        "PD_DESC": r.pick("LARCENY,PETIT FROM STORE-SHOPL", "ASSAULT 3", "HARASSMENT,SUBD 3,4,5"),
        "CRM_ATPT_CPTD_CD": "COMPLETED",
        "LAW_CAT_CD": r.pick("FELONY", "MISDEMEANOR", "VIOLATION"),
        "BORO_NM": "MANHATTAN",
        "LOC_OF_OCCUR_DESC": r.pick("INSIDE", "FRONT OF", "OPPOSITE OF"),
        "PREM_TYP_DESC": r.pick("STREET", "RESIDENCE - APT. HOUSE", "CHAIN STORE"),
        "JURIS_DESC": "N.Y. POLICE DEPT",
        "JURISDICTION_CODE": "0",
        "PARKS_NM": "(null)",
        "HADEVELOPT": "(null)",
        "HOUSING_PSA": "(null)",
        "X_COORD_CD": f"{r.x:.0f}",
        "Y_COORD_CD": f"{r.y:.0f}",
        "SUSP_AGE_GROUP": r.pick("25-44", "18-24", "UNKNOWN"),
        "SUSP_RACE": r.pick("BLACK", "WHITE HISPANIC", "UNKNOWN"),
        "SUSP_SEX": r.pick("M", "F", "U"),
        "TRANSIT_DISTRICT": "",
        "Latitude": f"{r.lat:.9f}",
        "Longitude": f"{r.lon:.9f}",
        "Lat_Lon": f"({r.lat:.9f}, {r.lon:.9f})",
        "PATROL_BORO": "PATROL BORO MAN SOUTH",
        "STATION_NAME": "(null)",
        "VIC_AGE_GROUP": r.pick("25-44", "45-64"),
        "VIC_RACE": r.pick("WHITE", "BLACK", "ASIAN / PACIFIC ISLANDER"),
        "VIC_SEX": r.pick("F", "M", "D"),
    }


def _nypd_shootings(r: Row) -> dict[str, Any]:
    key = 260000000 + (r.i if r.i % 10 else r.i - 1)  # several victims of one shooting share the key
    return {
        "INCIDENT_KEY": str(key),
        "OCCUR_DATE": mdy(r.when),
        "OCCUR_TIME": r.when.strftime("%H:%M:%S"),
        "BORO": "BRONX",
        "LOC_OF_OCCUR_DESC": r.pick("OUTSIDE", "INSIDE", ""),
        "PRECINCT": str(r.pick(40, 42, 44, 46)),
        "JURISDICTION_CODE": "0",
        "LOC_CLASSFCTN_DESC": r.pick("STREET", "HOUSING", "(null)"),
        "LOCATION_DESC": r.pick("MULTI DWELL - PUBLIC HOUS", "(null)", "GROCERY/BODEGA"),
        "STATISTICAL_MURDER_FLAG": r.pick("false", "false", "true"),
        "PERP_AGE_GROUP": r.pick("18-24", "25-44", "(null)"),
        "PERP_SEX": r.pick("M", "(null)"),
        "PERP_RACE": r.pick("BLACK", "(null)"),
        "VIC_AGE_GROUP": r.pick("18-24", "25-44"),
        "VIC_SEX": r.pick("M", "F"),
        "VIC_RACE": r.pick("BLACK", "BLACK HISPANIC"),
        "X_COORD_CD": f"{r.x:.3f}",
        "Y_COORD_CD": f"{r.y:.3f}",
        "Latitude": f"{r.lat:.6f}",
        "Longitude": f"{r.lon:.6f}",
        "Lon_Lat": f"POINT ({r.lon:.6f} {r.lat:.6f})",
    }


def _lapd(r: Row) -> dict[str, Any]:
    redacted = r.i in (7, 8)  # LAPD writes 0, 0 where a location is withheld
    return {
        "DR_NO": str(230100000 + r.i),
        "Date Rptd": mdy(r.when + pd.Timedelta(days=2)) + " 12:00:00 AM",
        "DATE OCC": mdy(r.when) + " 12:00:00 AM",
        "TIME OCC": hhmm(r.when, pad=r.i % 2 == 0),  # exports lose the leading zeros of '0030'
        "AREA": f"{r.pick(1, 2, 3):02d}",
        "AREA NAME": r.pick("Central", "Rampart", "Southwest"),
        "Rpt Dist No": f"{r.pick(101, 163, 377):04d}",
        "Part 1-2": str(r.pick(1, 2)),
        "Crm Cd": str(r.pick(330, 624, 510)),
        "Crm Cd Desc": r.offence,
        "Mocodes": r.pick("0344 1822", "0416 0329", ""),
        "Vict Age": str(r.pick(0, 34, 47, 61)),
        "Vict Sex": r.pick("M", "F", "X"),
        "Vict Descent": r.pick("H", "W", "B", "X"),
        "Premis Cd": str(r.pick(101, 102, 501)),
        "Premis Desc": r.pick("STREET", "SIDEWALK", "SINGLE FAMILY DWELLING"),
        "Weapon Used Cd": r.pick("", "400"),
        "Weapon Desc": r.pick("", "STRONG-ARM (HANDS, FIST, FEET OR BODILY FORCE)"),
        "Status": r.pick("IC", "AA"),
        "Status Desc": r.pick("Invest Cont", "Adult Arrest"),
        "Crm Cd 1": str(r.pick(330, 624)),
        "Crm Cd 2": "",
        "Crm Cd 3": "",
        "Crm Cd 4": "",
        "LOCATION": r.pick("1100 W  39TH                         PL", "700 S  HILL  ST"),
        "Cross Street": "",
        "LAT": "0" if redacted else f"{r.lat:.4f}",
        "LON": "0" if redacted else f"{r.lon:.4f}",
    }


def _chicago(r: Row) -> dict[str, Any]:
    return {
        "ID": str(12900000 + r.i),
        "Case Number": f"JG{100000 + r.i}",
        "Date": mdy_ampm(r.when),
        "Block": r.pick("047XX S DR MARTIN LUTHER KING JR DR", "011XX N STATE ST"),
        "IUCR": r.pick("0820", "0486", "1310", "0610"),
        "Primary Type": r.offence,
        "Description": r.pick("$500 AND UNDER", "DOMESTIC BATTERY SIMPLE", "TO PROPERTY", "FORCIBLE ENTRY"),
        "Location Description": r.pick("STREET", "APARTMENT", "RESIDENCE"),
        "Arrest": r.pick("false", "true"),
        "Domestic": r.pick("false", "true"),
        "Beat": f"{r.pick(111, 1834, 221):04d}",
        "District": f"{r.pick(1, 18, 2):03d}",
        "Ward": str(r.pick(4, 42, 3)),
        "Community Area": str(r.pick(32, 8, 38)),
        "FBI Code": r.pick("06", "08B", "14", "05"),
        "X Coordinate": f"{r.x:.0f}",
        "Y Coordinate": f"{r.y:.0f}",
        "Year": str(r.when.year),
        "Updated On": mdy_ampm(pd.Timestamp("2024-01-03 15:40:00")),
        "Latitude": f"{r.lat:.9f}",
        "Longitude": f"{r.lon:.9f}",
        "Location": f"({r.lat:.9f}, {r.lon:.9f})",
    }


def _boston(r: Row) -> dict[str, Any]:
    missing = r.i in (11,)  # Boston writes -1, -1 where no location was geocoded
    return {
        "INCIDENT_NUMBER": f"I23{200000 + r.i - (r.i % 9 == 0)}",  # offences of one incident repeat it
        "OFFENSE_CODE": str(r.pick(3115, 619, 1402, 520)),
        "OFFENSE_CODE_GROUP": r.offence,
        "OFFENSE_DESCRIPTION": r.pick(
            "INVESTIGATE PERSON", "LARCENY ALL OTHERS", "VANDALISM", "M/V ACCIDENT"
        ),
        "DISTRICT": r.pick("B2", "D4", "C11"),
        "REPORTING_AREA": str(r.pick(282, 155, 355)),
        "SHOOTING": r.pick("0", "0", "1"),
        "OCCURRED_ON_DATE": iso(r.when),
        "YEAR": str(r.when.year),
        "MONTH": str(r.when.month),
        "DAY_OF_WEEK": r.when.day_name(),
        "HOUR": str(r.when.hour),
        "UCR_PART": r.pick("Part One", "Part Two", "Part Three"),
        "STREET": r.pick("WASHINGTON ST", "BOYLSTON ST", "BLUE HILL AVE"),
        "Lat": "-1" if missing else f"{r.lat:.8f}",
        "Long": "-1" if missing else f"{r.lon:.8f}",
        "Location": "(0.00000000, 0.00000000)" if missing else f"({r.lat:.8f}, {r.lon:.8f})",
    }


def _denver(r: Row) -> dict[str, Any]:
    incident = 2023000100 + r.i // 2  # several offences per incident
    return {
        "incident_id": str(incident),
        "offense_id": f"{incident}{r.pick(2399, 2305, 5707)}00{r.i % 2}",
        "OFFENSE_CODE": str(r.pick(2399, 2305, 2203)),
        "OFFENSE_CODE_EXTENSION": str(r.pick(0, 1)),
        "OFFENSE_TYPE_ID": r.pick("theft-other", "criminal-mischief-other", "burg-residence-by-force"),
        "OFFENSE_CATEGORY_ID": r.offence,
        "FIRST_OCCURRENCE_DATE": mdy_ampm_nopad(r.when),
        "LAST_OCCURRENCE_DATE": "" if r.i % 4 else mdy_ampm_nopad(r.when + pd.Timedelta(hours=5)),
        "REPORTED_DATE": mdy_ampm_nopad(r.when + pd.Timedelta(days=1)),
        "INCIDENT_ADDRESS": r.pick("1600 N DOWNING ST", "300 S BROADWAY", ""),
        "GEO_X": f"{r.x:.0f}",
        "GEO_Y": f"{r.y:.0f}",
        "GEO_LON": f"{r.lon:.7f}",
        "GEO_LAT": f"{r.lat:.7f}",
        "DISTRICT_ID": str(r.pick(1, 3, 6)),
        "PRECINCT_ID": str(r.pick(111, 311, 612)),
        "NEIGHBORHOOD_ID": r.pick("capitol-hill", "baker", "five-points"),
        "IS_CRIME": "1",
        "IS_TRAFFIC": "0",
        "VICTIM_COUNT": str(r.pick(1, 2)),
    }


def _philadelphia(r: Row) -> dict[str, Any]:
    import shapely

    point = shapely.to_wkb(shapely.points(r.lon, r.lat), hex=True, include_srid=False)
    return {
        "the_geom": point,
        "cartodb_id": str(5000 + r.i),
        "the_geom_webmercator": point,
        "objectid": str(900000 + r.i),
        "dc_dist": f"{r.pick(12, 24, 25):02d}",
        "psa": r.pick("1", "2", "3", "A"),
        "dispatch_date_time": r.when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "dispatch_date": r.when.strftime("%Y-%m-%d"),
        "dispatch_time": r.when.strftime("%H:%M:%S"),
        "hour": str(r.when.hour),
        "dc_key": str(202324000000 + r.i),
        "location_block": r.pick("5200 BLOCK BALTIMORE AVE", "N 52ND ST / MARKET ST"),
        "ucr_general": str(r.pick(600, 300, 1400)),
        "text_general_code": r.offence,
        "point_x": f"{r.lon:.8f}",
        "point_y": f"{r.lat:.8f}",
        "lat": f"{r.lat:.8f}",
        "lng": f"{r.lon:.8f}",
    }


def _seattle(r: Row) -> dict[str, Any]:
    redacted = r.i == 5
    return {
        "Report Number": f"2023-{900000 + r.i // 2}",
        "Offense ID": str(48000000000 + r.i),
        "Offense Start DateTime": mdy_ampm(r.when),
        "Offense End DateTime": "" if r.i % 3 else mdy_ampm(r.when + pd.Timedelta(hours=1)),
        "Report DateTime": mdy_ampm(r.when + pd.Timedelta(hours=6)),
        "Group A B": r.pick("A", "B"),
        "Crime Against Category": r.pick("PROPERTY", "PERSON", "SOCIETY"),
        "Offense Parent Group": r.pick("LARCENY-THEFT", "ASSAULT OFFENSES", "BURGLARY/BREAKING&ENTERING"),
        "Offense": r.offence,
        "Offense Code": r.pick("23H", "13B", "220", "290"),
        "Precinct": r.pick("W", "N", "E", "SW"),
        "Sector": r.pick("Q", "B", "E"),
        "Beat": r.pick("Q1", "B2", "E3"),
        "MCPP": r.pick("CAPITOL HILL", "BALLARD NORTH", "DOWNTOWN COMMERCIAL"),
        "100 Block Address": "REDACTED"
        if redacted
        else r.pick("1XX BLOCK OF PINE ST", "5XX BLOCK OF 2ND AVE"),
        "Longitude": "0.0" if redacted else f"{r.lon:.9f}",
        "Latitude": "0.0" if redacted else f"{r.lat:.9f}",
    }


def _san_francisco(r: Row) -> dict[str, Any]:
    sub = {"Larceny Theft": "Larceny - From Vehicle", "Burglary": "Burglary - Residential"}.get(
        r.offence, "Other"
    )
    return {
        "Incident Datetime": r.when.strftime("%Y/%m/%d %I:%M:%S %p"),
        "Incident Date": r.when.strftime("%Y/%m/%d"),
        "Incident Time": r.when.strftime("%H:%M"),
        "Incident Year": str(r.when.year),
        "Incident Day of Week": r.when.day_name(),
        "Report Datetime": (r.when + pd.Timedelta(hours=3)).strftime("%Y/%m/%d %I:%M:%S %p"),
        "Row ID": str(1200000000000 + r.i),
        "Incident ID": str(1200000 + r.i // 2),
        "Incident Number": str(230000000 + r.i // 2),
        "CAD Number": "" if r.i % 5 == 0 else str(230000000 + r.i),
        "Report Type Code": r.pick("II", "VS"),
        "Report Type Description": r.pick("Initial", "Vehicle Supplement"),
        "Filed Online": r.pick("", "true"),
        "Incident Code": str(r.pick(6244, 5043, 28150)),
        "Incident Category": r.offence,
        "Incident Subcategory": sub,
        "Incident Description": r.pick(
            "Theft, From Locked Vehicle, >$950", "Burglary, Residence, Forcible Entry"
        ),
        "Resolution": r.pick("Open or Active", "Cite or Arrest Adult"),
        "Intersection": r.pick("MISSION ST \\ 16TH ST", "MARKET ST \\ 5TH ST"),
        "CNN": str(r.pick(24924000, 24632000)),
        "Police District": r.pick("Mission", "Southern", "Tenderloin"),
        "Analysis Neighborhood": r.pick("Mission", "South of Market"),
        "Supervisor District": str(r.pick(9, 6, 5)),
        "Supervisor District 2012": str(r.pick(9, 6, 5)),
        "Latitude": f"{r.lat:.13f}",
        "Longitude": f"{r.lon:.13f}",
        "Point": f"POINT ({r.lon:.13f} {r.lat:.13f})",
    }


def _toronto(r: Row) -> dict[str, Any]:
    report = r.when + pd.Timedelta(days=1)
    return {
        "X": f"{r.x:.4f}",
        "Y": f"{r.y:.4f}",
        "OBJECTID": str(r.i + 1),
        "EVENT_UNIQUE_ID": f"GO-2023{1000 + r.i // 3}",
        "REPORT_DATE": report.strftime("%Y-%m-%d"),
        "OCC_DATE": r.when.strftime("%Y-%m-%d"),
        "REPORT_YEAR": str(report.year),
        "REPORT_MONTH": report.month_name(),
        "REPORT_DAY": str(report.day),
        "REPORT_DOY": str(report.day_of_year),
        "REPORT_DOW": report.day_name() + "    ",
        "REPORT_HOUR": str(report.hour),
        "OCC_YEAR": str(r.when.year),
        "OCC_MONTH": r.when.month_name(),
        "OCC_DAY": str(r.when.day),
        "OCC_DOY": str(r.when.day_of_year),
        "OCC_DOW": r.when.day_name() + "    ",
        "OCC_HOUR": str(r.when.hour),
        "DIVISION": r.pick("D51", "D14", "D52"),
        "LOCATION_TYPE": r.pick(
            "Apartment (Rooming House, Condo)", "Streets, Roads, Highways (Bicycle Path, Private Road)"
        ),
        "PREMISES_TYPE": r.pick("Apartment", "Outside", "Commercial"),
        "UCR_CODE": str(r.pick(1430, 2120, 2135)),
        "UCR_EXT": str(r.pick(100, 200)),
        "OFFENCE": r.pick("Assault", "B&E", "Theft Of Motor Vehicle"),
        "MCI_CATEGORY": r.offence,
        "HOOD_158": str(r.pick(73, 168, 77)),
        "NEIGHBOURHOOD_158": r.pick("Moss Park (73)", "Downtown Yonge East (168)"),
        "HOOD_140": str(r.pick(73, 75)),
        "NEIGHBOURHOOD_140": r.pick("Moss Park (73)", "Church-Yonge Corridor (75)"),
        "LONG_WGS84": f"{r.lon:.6f}",
        "LAT_WGS84": f"{r.lat:.6f}",
    }


def _vancouver(r: Row) -> dict[str, Any]:
    withheld = r.offence == "Offence Against a Person"  # VPD withholds these locations as 0, 0
    return {
        "TYPE": r.offence,
        "YEAR": str(r.when.year),
        "MONTH": str(r.when.month),
        "DAY": str(r.when.day),
        "HOUR": str(r.when.hour),
        "MINUTE": str(r.when.minute),
        "HUNDRED_BLOCK": "OFFSET TO PROTECT PRIVACY"
        if withheld
        else r.pick("10XX GRANVILLE ST", "1XX E HASTINGS ST"),
        "NEIGHBOURHOOD": r.pick("Central Business District", "Strathcona", "West End"),
        "X": "0" if withheld else f"{r.x:.2f}",
        "Y": "0" if withheld else f"{r.y:.2f}",
    }


def _montreal(r: Row) -> dict[str, Any]:
    return {
        "CATEGORIE": r.offence,
        "DATE": r.when.strftime("%Y-%m-%d"),
        "QUART": r.pick("jour", "soir", "nuit"),
        "PDQ": str(r.pick(20, 21, 38)),
        "X": f"{r.x:.6f}",
        "Y": f"{r.y:.6f}",
        "LONGITUDE": f"{r.lon:.6f}",
        "LATITUDE": f"{r.lat:.6f}",
    }


def _police_uk_street(r: Row) -> dict[str, Any]:
    asb = r.offence == "Anti-social behaviour"
    return {
        "Crime ID": "" if asb else hashlib.sha256(f"uk{r.i}".encode()).hexdigest(),
        "Month": r.when.strftime("%Y-%m"),
        "Reported by": "Nottinghamshire Police",
        "Falls within": "Nottinghamshire Police",
        "Longitude": f"{r.lon:.6f}",
        "Latitude": f"{r.lat:.6f}",
        "Location": r.pick(
            "On or near Parking Area", "On or near Shopping Area", "On or near Mansfield Road"
        ),
        "LSOA code": r.pick("E01033406", "E01013814"),
        "LSOA name": r.pick("Nottingham 018B", "Nottingham 020A"),
        "Crime type": r.offence,
        "Last outcome category": ""
        if asb
        else r.pick("Investigation complete; no suspect identified", "Unable to prosecute suspect"),
        "Context": "",
    }


def _police_uk_stop_search(r: Row) -> dict[str, Any]:
    no_location = r.i in (4, 9)
    return {
        "Type": r.pick("Person search", "Person and Vehicle search"),
        "Date": r.when.strftime("%Y-%m-%dT%H:%M:%S") + "+00:00",
        "Part of a policing operation": r.pick("False", ""),
        "Policing operation": "",
        "Latitude": "" if no_location else f"{r.lat:.6f}",
        "Longitude": "" if no_location else f"{r.lon:.6f}",
        "Gender": r.pick("Male", "Female"),
        "Age range": r.pick("18-24", "25-34", "over 34"),
        "Self-defined ethnicity": r.pick(
            "White - English/Welsh/Scottish/Northern Irish/British", "Other ethnic group - Not stated"
        ),
        "Officer-defined ethnicity": r.pick("White", "Black", "Asian"),
        "Legislation": "Misuse of Drugs Act 1971 (section 23)",
        "Object of search": r.offence,
        "Outcome": r.pick("A no further action disposal", "Arrest"),
        "Outcome linked to object of search": r.pick("False", "True", ""),
        "Removal of more than just outer clothing": r.pick("False", ""),
    }


def _police_uk_2012(r: Row) -> dict[str, Any]:
    return {
        "Month": r.when.strftime("%Y-%m"),
        "Reported by": "Avon and Somerset Constabulary",
        "Falls within": "Avon and Somerset Constabulary",
        "Easting": f"{r.x:.0f}",
        "Northing": f"{r.y:.0f}",
        "Location": r.pick("On or near Hengrove Lane", "On or near Mayfield Park South"),
        "Crime type": r.offence,
        "Context": "",
    }


def _police_uk_api(r: Row) -> dict[str, Any]:
    asb = r.offence == "anti-social-behaviour"
    return {
        "category": r.offence,
        "persistent_id": "" if asb else hashlib.sha256(f"api{r.i}".encode()).hexdigest(),
        "date": r.when.strftime("%Y-%m"),
        "lat": f"{r.lat:.6f}",
        "long": f"{r.lon:.6f}",
        "street_id": str(r.pick(1737432, 1737599, 1738190)),
        "street_name": r.pick("On or near Parking Area", "On or near Nightclub"),
        "context": "",
        "id": str(108000000 + r.i),
        "location_type": "Force",
        "location_subtype": "",
        "outcome_status": "" if asb else r.pick("Under investigation", "Status update unavailable"),
    }


def _cincinnati(r: Row) -> dict[str, Any]:
    return {
        "INSTANCEID": f"{{{r.i:08X}-4C1B-4D2A-9E11-2B7C5A1D3E4F}}",
        "INCIDENT_NO": str(233000100 + r.i),
        "DATE_REPORTED": mdy_ampm(r.when + pd.Timedelta(hours=3)),
        "DATE_FROM": mdy_ampm(r.when),
        "DATE_TO": mdy_ampm(r.when + pd.Timedelta(hours=1)),
        "CLSD": r.pick("J--CLOSED", "F--CLEARED BY ARREST - ADULT", ""),
        "UCR": str(r.pick(600, 500, 1400)),
        "DST": str(r.pick(1, 4, 5)),
        "BEAT": str(r.pick(1, 2, 3)),
        "OFFENSE": r.offence,
        "LOCATION": r.pick("15-STREET", "18-SINGLE FAMILY HOME", "17-APARTMENT"),
        "THEFT_CODE": r.pick("", "23D-THEFT FROM BUILDING", "23F-THEFT FROM MOTOR VEHICLE"),
        "FLOOR": "",
        "SIDE": "",
        "OPENING": "",
        "HATE_BIAS": "N--NO BIAS/NOT APPLICABLE",
        "DAYOFWEEK": r.when.day_name().upper(),
        "RPT_AREA": str(r.pick(143, 257)),
        "CPD_NEIGHBORHOOD": r.pick("DOWNTOWN", "OVER-THE-RHINE", "WESTWOOD"),
        "WEAPONS": r.pick("99--NONE", "11--FIREARM (TYPE NOT STATED)"),
        "DATE_OF_CLEARANCE": "" if r.i % 2 else mdy_ampm(r.when + pd.Timedelta(days=9)),
        "HOUR_FROM": str(r.when.hour * 100 + r.when.minute),
        "HOUR_TO": str(min(2359, r.when.hour * 100 + r.when.minute + 100)),
        "ADDRESS_X": r.pick("1XX E 5TH ST", "12XX VINE ST"),
        "LONGITUDE_X": f"{r.lon:.6f}",
        "LATITUDE_X": f"{r.lat:.6f}",
        "VICTIM_AGE": r.pick("18-25", "26-30", "UNKNOWN"),
        "VICTIM_RACE": r.pick("WHITE", "BLACK"),
        "VICTIM_ETHNICITY": r.pick("NOT OF HISPANIC ORIG", "UNKNOWN"),
        "VICTIM_GENDER": r.pick("MALE", "FEMALE"),
        "SUSPECT_AGE": r.pick("UNKNOWN", "31-40"),
        "SUSPECT_RACE": r.pick("UNKNOWN", "BLACK"),
        "SUSPECT_ETHNICITY": "UNKNOWN",
        "SUSPECT_GENDER": r.pick("UNKNOWN", "MALE"),
        "TOTALNUMBERVICTIMS": str(r.pick(1, 2)),
        "TOTALSUSPECTS": str(r.pick(0, 1)),
        "UCR_GROUP": r.pick("PART 1 CRIME", "PART 2 CRIME"),
        "ZIP": str(r.pick(45202, 45214)),
        "COMMUNITY_COUNCIL_NEIGHBORHOOD": r.pick("DOWNTOWN", "OVER-THE-RHINE"),
        "SNA_NEIGHBORHOOD": r.pick("DOWNTOWN", "OVER-THE-RHINE"),
    }


def _detroit(r: Row) -> dict[str, Any]:
    return {
        "X": f"{r.lon:.7f}",
        "Y": f"{r.lat:.7f}",
        "incident_entry_id": f"{3500000 + r.i}-{r.pick(13002, 29000)}",
        "nearest_intersection": r.pick("Woodward Ave & Mack Ave", "Gratiot Ave & E 7 Mile Rd"),
        "offense_category": r.offence,
        "offense_description": r.pick(
            "ASSAULT AND BATTERY/SIMPLE ASSAULT", "LARCENY - THEFT FROM MOTOR VEHICLE"
        ),
        "state_offense_code": str(r.pick(13002, 23006, 29000)),
        "arrest_charge": str(r.pick(13002, 23006, 29000)),
        "charge_description": r.pick("ASSAULT AND BATTERY/SIMPLE ASSAULT", "DAMAGE TO PROPERTY"),
        "incident_occurred_at": arcgis(r.when),
        "incident_time": r.when.strftime("%H:%M"),
        "day_of_week": str(r.when.day_of_week + 1),
        "hour_of_day": str(r.when.hour),
        "year": str(r.when.year),
        "scout_car_area": str(r.pick(304, 905, 1103)),
        "precinct": str(r.pick(3, 9, 11)),
        "block_id": str(261635400000000 + r.i),
        "neighborhood": r.pick("Midtown", "Osborn", "Brightmoor"),
        "council_district": str(r.pick(5, 3, 1)),
        "zip_code": str(r.pick(48201, 48205)),
        "longitude": f"{r.lon:.7f}",
        "latitude": f"{r.lat:.7f}",
        "ibr_report_date": arcgis(r.when + pd.Timedelta(days=1)),
        "case_id": str(3500000 + r.i),
        "crime_id": str(3500000 + r.i),
        "report_number": f"2301{r.i:05d}",
    }


def _austin(r: Row) -> dict[str, Any]:
    return {
        "Incident Number": str(20235000000 + r.i),
        "Highest Offense Description": r.offence,
        "Highest Offense Code": str(r.pick(600, 601, 1400, 2100)),
        "Family Violence": r.pick("N", "Y"),
        "Occurred Date Time": mdy_ampm(r.when),
        "Occurred Date": mdy(r.when),
        "Occurred Time": hhmm(r.when, pad=False),
        "Report Date Time": mdy_ampm(r.when + pd.Timedelta(hours=4)),
        "Report Date": mdy(r.when + pd.Timedelta(hours=4)),
        "Report Time": hhmm(r.when + pd.Timedelta(hours=4), pad=False),
        "Location Type": r.pick("RESIDENCE / HOME", "PARKING LOTS / GARAGE", "STREETS / HWY / ROAD / ALLEY"),
        "Address": r.pick("1000 BLOCK E 6TH ST", "500 BLOCK W 5TH ST"),
        "Zip Code": str(r.pick(78701, 78702)),
        "Council District": str(r.pick(1, 9)),
        "APD Sector": r.pick("GE", "BA", "CH"),
        "APD District": str(r.pick(1, 2, 3)),
        "PRA": str(r.pick(377, 389)),
        "Census Tract": str(r.pick(11.0, 9.02)),
        "Clearance Status": r.pick("N", "C", ""),
        "Clearance Date": "" if r.i % 2 else mdy(r.when + pd.Timedelta(days=20)),
        "UCR Category": r.pick("23H", "220", ""),
        "Category Description": r.pick("Theft", "Burglary", ""),
        "X-coordinate": f"{r.x:.0f}",
        "Y-coordinate": f"{r.y:.0f}",
        "Latitude": f"{r.lat:.8f}",
        "Longitude": f"{r.lon:.8f}",
        "Location": f"({r.lat:.8f}, {r.lon:.8f})",
    }


def _washington_dc(r: Row) -> dict[str, Any]:
    return {
        "X": f"{r.lon:.8f}",
        "Y": f"{r.lat:.8f}",
        "CCN": f"23{100000 + r.i:06d}",
        "REPORT_DAT": arcgis(r.when + pd.Timedelta(hours=2)),
        "SHIFT": r.pick("DAY", "EVENING", "MIDNIGHT"),
        "METHOD": r.pick("OTHERS", "OTHERS", "GUN", "KNIFE"),
        "OFFENSE": r.offence,
        "BLOCK": r.pick("1400 - 1499 BLOCK OF U STREET NW", "600 - 699 BLOCK OF H STREET NE"),
        "XBLOCK": f"{r.x:.2f}",
        "YBLOCK": f"{r.y:.2f}",
        "WARD": str(r.pick(1, 2, 6)),
        "ANC": r.pick("1B", "2C", "6C"),
        "DISTRICT": str(r.pick(3, 1, 5)),
        "PSA": str(r.pick(305, 101, 506)),
        "NEIGHBORHOOD_CLUSTER": r.pick("Cluster 3", "Cluster 8"),
        "BLOCK_GROUP": r.pick("004400 2", "010600 1"),
        "CENSUS_TRACT": r.pick("004400", "010600"),
        "VOTING_PRECINCT": r.pick("Precinct 22", "Precinct 129"),
        "LATITUDE": f"{r.lat:.8f}",
        "LONGITUDE": f"{r.lon:.8f}",
        "BID": r.pick("", "DOWNTOWN"),
        "START_DATE": arcgis(r.when),
        "END_DATE": "" if r.i % 3 else arcgis(r.when + pd.Timedelta(hours=1)),
        "OBJECTID": str(600000000 + r.i),
        "OCTO_RECORD_ID": f"23{100000 + r.i:06d}-01",
    }


def _atlanta(r: Row) -> dict[str, Any]:
    return {
        "offense_id": str(2301000000 + r.i),
        "rpt_date": mdy(r.when + pd.Timedelta(days=1)),
        "occur_date": mdy(r.when),
        "occur_time": r.when.strftime("%H:%M:%S"),
        "poss_date": mdy(r.when),
        "poss_time": (r.when + pd.Timedelta(hours=3)).strftime("%H:%M:%S"),
        "beat": str(r.pick(104, 509, 611)),
        "apt_office_prefix": "",
        "apt_office_num": "",
        "location": r.pick("1000 PEACHTREE ST NE", "200 PIEDMONT AVE NE"),
        "MinOfucr": str(r.pick(630, 511, 640)),
        "MinOfibr_code": r.pick("2305", "2202", "2399"),
        "dispo_code": r.pick("", "10"),
        "MaxOfnum_victims": str(r.pick(1, 2)),
        "Shift": r.pick("Day", "Eve", "Morn"),
        "Avg Day": r.when.strftime("%a"),
        "loc_type": r.pick("18", "13", ""),
        "UC2_Literal": r.offence,
        "neighborhood": r.pick("Downtown", "Midtown", "Old Fourth Ward"),
        "npu": r.pick("M", "E"),
        "lat": f"{r.lat:.5f}",
        "long": f"{r.lon:.5f}",
    }


def _houston(r: Row) -> dict[str, Any]:
    return {
        "Incident": str(100000023 + r.i),
        "Occurrence Date": r.when.strftime("%Y-%m-%d"),
        "Occurrence Hour": str(r.when.hour),
        "NIBRS Class": r.pick("23F", "13B", "290"),
        "NIBRS Description": r.offence,
        "Offense Count": str(r.pick(1, 1, 2)),
        "Beat": r.pick("1A10", "19G10", "6B60"),
        "Premise": r.pick(
            "Residence, Home (Includes Apartment)", "Parking Lot, Garage", "Road, Street, or Sidewalk"
        ),
        "Block Range": r.pick("1000-1099", "2400-2499"),
        "Street Name": r.pick("MAIN", "WESTHEIMER", "LOUISIANA"),
        "Street Type": r.pick("ST", "RD"),
        "Suffix": r.pick("", "W"),
        "City": "HOUSTON",
        "ZIP Code": str(r.pick(77002, 77006)),
        "MapLongitude": f"{r.lon:.7f}",
        "MapLatitude": f"{r.lat:.7f}",
    }


def _portland(r: Row) -> dict[str, Any]:
    return {
        "Address": r.pick("1000 BLOCK OF SW BROADWAY", "400 BLOCK OF NW 23RD AVE"),
        "CaseNumber": f"23-{900000 + r.i}",
        "CrimeAgainst": r.pick("Property", "Person", "Society"),
        "Neighborhood": r.pick("Downtown", "Pearl", "Northwest"),
        "OccurDate": f"{r.when.month}/{r.when.day}/{r.when.year}",
        "OccurTime": hhmm(r.when),
        "OffenseCategory": r.pick("Larceny Offenses", "Assault Offenses", "Burglary"),
        "OffenseType": r.offence,
        "OpenDataLat": f"{r.lat:.7f}",
        "OpenDataLon": f"{r.lon:.7f}",
        "OpenDataX": f"{r.x:.0f}",
        "OpenDataY": f"{r.y:.0f}",
        "ReportDate": f"{r.when.month}/{r.when.day}/{r.when.year}",
        "OffenseCount": str(r.pick(1, 1, 2)),
    }


def _code_core(r: Row) -> dict[str, Any]:
    stamp = r.when.strftime("%Y-%m-%d %H:%M")
    return {
        "uid": str(32000000 + r.i),
        "city_name": "Kansas City",
        "offense_code": r.pick("23F", "13B", "220"),
        "offense_type": r.offence,
        "offense_group": r.pick("larceny/theft offenses", "assault offenses", "burglary/breaking & entering"),
        "offense_against": r.pick("property", "persons"),
        "date_single": stamp,
        "date_start": stamp,
        "date_end": "" if r.i % 2 else (r.when + pd.Timedelta(hours=8)).strftime("%Y-%m-%d %H:%M"),
        "longitude": f"{r.lon:.6f}",
        "latitude": f"{r.lat:.6f}",
        "location_type": r.pick(
            "residence/home", "parking/drop lot/garage", "highway/road/alley/street/sidewalk"
        ),
        "location_category": r.pick("residence", "parking", "street"),
        "census_block": str(290950000000000 + r.i),
    }


def _memphis_code(r: Row) -> dict[str, Any]:
    return {
        "uid": str(47000000 + r.i),
        "offense_type": r.offence,
        "date_utc": r.when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "lon": f"{r.lon:.3f}",
        "lat": f"{r.lat:.3f}",
    }


def _chicago_td(r: Row) -> dict[str, Any]:
    return {"x": f"{r.x:.1f}", "y": f"{r.y:.1f}", "date_single": r.when.strftime("%d/%m/%Y")}


def _cincinnati_burglary(r: Row) -> dict[str, Any]:
    return {
        "incident_no": str(160000100 + r.i),
        "offense_date": r.when.strftime("%Y-%m-%d"),
        "offense": r.offence,
        "longitude": f"{r.lon:.5f}",
        "latitude": f"{r.lat:.5f}",
    }


def _nottingham_cmd(r: Row) -> dict[str, Any]:
    return {
        "month": r.when.strftime("%Y-%m-01"),
        "longitude": f"{r.lon:.4f}",
        "latitude": f"{r.lat:.4f}",
        "location": r.pick("Parking Area", "Supermarket", "Mansfield Road"),
        "lsoa_code": r.pick("E01033406", "E01013814"),
    }


def _baltimore(r: Row) -> dict[str, Any]:
    return {
        "RowID": str(r.i + 1),
        "CrimeDateTime": arcgis(r.when),
        "CrimeCode": r.pick("6D", "4E", "5A", "7A"),
        "Location": r.pick("1500 N CALVERT ST", "400 E BALTIMORE ST"),
        "Description": r.offence,
        "Inside_Outside": r.pick("I", "O", ""),
        "Weapon": r.pick("NA", "FIREARM", "HANDS"),
        "Post": str(r.pick(111, 142, 514)),
        "Gender": r.pick("M", "F", ""),
        "Age": str(r.pick(23, 41, 0)),
        "Race": r.pick("BLACK_OR_AFRICAN_AMERICAN", "WHITE", "UNKNOWN"),
        "Ethnicity": r.pick("NOT_HISPANIC_OR_LATINO", "UNKNOWN"),
        "District": r.pick("CENTRAL", "SOUTHEAST", "NORTHERN"),
        "Neighborhood": r.pick("MOUNT VERNON", "DOWNTOWN", "CHARLES VILLAGE"),
        "Latitude": f"{r.lat:.4f}",
        "Longitude": f"{r.lon:.4f}",
        "GeoLocation": f"({r.lat:.4f},{r.lon:.4f})",
        "Premise": r.pick("STREET", "ROW/TOWNHOUSE-OCC", "PARKING LOT-OUTSIDE"),
        "VRIName": "",
        "Total_Incidents": "1",
    }


def _ppa_no_date(r: Row) -> dict[str, Any]:
    return {"x": f"{r.x:.2f}", "y": f"{r.y:.2f}", "lon": f"{r.lon:.6f}", "lat": f"{r.lat:.6f}"}


def _kansas_city_frauds(r: Row) -> dict[str, Any]:
    return {
        "uid": str(31000000 + r.i),
        "offense_code": "26A",
        "offense_type": r.offence,
        "date": r.when.strftime("%Y-%m-%d %H:%M"),
        "longitude": f"{r.lon:.6f}",
        "latitude": f"{r.lat:.6f}",
    }
