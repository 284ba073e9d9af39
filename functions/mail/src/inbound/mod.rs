//! MIME in: parsing real-world mail into a [`ParsedMail`].
