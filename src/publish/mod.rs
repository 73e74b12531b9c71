pub mod info_file;
