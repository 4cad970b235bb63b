"""個人住民税 (individual resident tax): own copy of residents, declarations, assessments,
課税証明書, and answers to 所得照会 from nhi."""
